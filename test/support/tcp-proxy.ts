import { EventEmitter } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of a real server (PostgreSQL, Redis) that a test can cut and restore, to
 * see the agent ride out an outage of a dependency without stopping the shared server.
 */
export interface TcpProxy {
  port: number;
  /** Drops every open connection and refuses new ones until restore(). */
  cut(): void;
  restore(): void;
  /** Resolves once `n` connection attempts were refused since the last cut(). */
  refused(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const events = new EventEmitter();
  const open = new Set<Socket>();
  let down = false;
  let refusedCount = 0;
  const server = createServer((client) => {
    if (down) {
      refusedCount++;
      events.emit('refused', refusedCount);
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      down = true;
      refusedCount = 0;
      for (const s of open) s.destroy();
    },
    restore() {
      down = false;
    },
    refused: (n) =>
      new Promise<void>((resolve) => {
        if (refusedCount >= n) return resolve();
        const on = (count: number) => {
          if (count < n) return;
          events.off('refused', on);
          resolve();
        };
        events.on('refused', on);
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** `url` with its host and port replaced by the proxy's, so a client connects through it. */
export function through(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}
