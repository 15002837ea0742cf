import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProbe } from '../../src/sources/probes/registry.js';
import { tcpProbeSchema } from '../../src/sources/probes/tcp.js';
import { until } from '../support/quiet.js';
import { startStalledListener } from '../support/stalled-listener.js';

let server: Server;
let port: number;
let accepted = 0;

beforeAll(async () => {
  server = createServer((socket) => {
    accepted += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

const probe = (p: number, timeout = '500ms') =>
  tcpProbeSchema.parse({ kind: 'tcp', name: 'api-port', host: '127.0.0.1', port: p, every: '5s', timeout });

async function listen(
  srv: Server,
  onSocket: (socket: Socket) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  srv.on('connection', onSocket);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => srv.close(() => resolve())),
  };
}

/** A port nothing listens on: one we held and let go. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const p = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return p;
}

describe('tcp probe', () => {
  it('is ok when the port accepts, with the connect time as the value, and hangs up', async () => {
    const before = accepted;
    const out = await runProbe(probe(port));
    expect(out).toMatchObject({ ok: true, data: { connectMs: out.value } });
    expect(out.value).toBeGreaterThanOrEqual(0);
    await until('the server to see the connection', () => accepted === before + 1);
  });

  it('fails with the reason when nothing listens', async () => {
    const out = await runProbe(probe(await closedPort()));
    expect(out).toMatchObject({ ok: false, data: { error: 'ECONNREFUSED', connectMs: null } });
  });

  it('fails at its timeout when the connect hangs (a host gone dark)', async () => {
    const stalled = await startStalledListener();
    try {
      const out = await runProbe(probe(stalled.port, '300ms'));
      expect(out).toMatchObject({ ok: false, data: { error: 'no connection within 300 ms' } });
      expect(out.value).toBeGreaterThanOrEqual(290);
    } finally {
      await stalled.close();
    }
  });

  it('hangs up politely on a server that greets first (an SSH banner): a FIN, no connection reset', async () => {
    const seen: Array<{ ended: boolean; errors: string[]; closed: boolean }> = [];
    const greeter = await listen(createServer(), (socket) => {
      const s = { ended: false, errors: [] as string[], closed: false };
      seen.push(s);
      socket.on('end', () => (s.ended = true));
      socket.on('error', (err: NodeJS.ErrnoException) => s.errors.push(err.code ?? err.message));
      socket.on('close', () => (s.closed = true));
      socket.write('SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n');
    });
    try {
      for (let i = 0; i < 5; i++) expect(await runProbe(probe(greeter.port))).toMatchObject({ ok: true });
      await until(
        'the server to see every probe close',
        () => seen.length === 5 && seen.every((s) => s.closed),
      );
      expect(seen).toEqual(Array(5).fill({ ended: true, errors: [], closed: true }));
    } finally {
      await greeter.close();
    }
  });

  it('ends at its timeout, still ok, when the server never closes its side; no socket is left open', async () => {
    const held: Socket[] = [];
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const before = sockets();
    const mute = await listen(createServer({ allowHalfOpen: true }), (socket) => {
      held.push(socket);
      socket.write('220 ready\r\n');
      socket.resume();
    });
    try {
      const out = await runProbe(probe(mute.port, '300ms'));
      expect(out).toMatchObject({ ok: true, data: { connectMs: out.value } });
      expect(out.value).toBeLessThan(300);
      expect(held).toHaveLength(1);
    } finally {
      for (const s of held) s.destroy();
      await mute.close();
    }
    await until('the probe and server sockets to be gone', () => sockets() === before);
  });

  it('takes the port from a ${VAR} as text, and refuses one out of range', () => {
    expect(tcpProbeSchema.parse({ ...probe(1), port: '8015' }).port).toBe(8015);
    expect(tcpProbeSchema.safeParse({ ...probe(1), port: 70000 }).success).toBe(false);
  });
});
