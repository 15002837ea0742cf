import { createServer, type Server } from 'node:net';
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

  it('takes the port from a ${VAR} as text, and refuses one out of range', () => {
    expect(tcpProbeSchema.parse({ ...probe(1), port: '8015' }).port).toBe(8015);
    expect(tcpProbeSchema.safeParse({ ...probe(1), port: 70000 }).success).toBe(false);
  });
});
