import { EventEmitter } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hrNow, waitForRecord } from './records.js';

export interface HealthRequest {
  /** When the answer was sent, on the same clock as SlackCall.hr / ReceivedMail.hr. */
  at: number;
  healthy: boolean;
  status: number;
}

export interface HelixSim {
  url: string;
  healthRequests: HealthRequest[];
  setHealthy(healthy: boolean): void;
  setLatency(ms: number): void;
  /** Resolves with the first `n` matching answered requests, counting those already recorded. */
  waitForRequests(
    n: number,
    predicate?: (req: HealthRequest) => boolean,
    opts?: { timeoutMs?: number },
  ): Promise<HealthRequest[]>;
  close(): Promise<void>;
}

const healthyBody = { status: 'healthy', components: { database: 'healthy', api: 'healthy' } };
const unhealthyBody = { status: 'unhealthy', components: { database: 'unhealthy', api: 'healthy' } };

export async function startHelixSim(
  opts: { port?: number; host?: string; healthy?: boolean; latencyMs?: number } = {},
): Promise<HelixSim> {
  const events = new EventEmitter();
  const healthRequests: HealthRequest[] = [];
  const pending = new Set<NodeJS.Timeout>();
  let healthy = opts.healthy ?? true;
  let latencyMs = opts.latencyMs ?? 0;

  // State is read when the answer goes out, not when the request came in, like a real backend
  // whose database fails while a slow request is in flight.
  const answerHealth = (res: ServerResponse): void => {
    if (res.destroyed) return;
    const status = healthy ? 200 : 503;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(healthy ? healthyBody : unhealthyBody));
    const entry: HealthRequest = { at: hrNow(), healthy, status };
    healthRequests.push(entry);
    events.emit('health', entry);
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://helix').pathname;
    if (req.method === 'GET' && path === '/api/v1/health') {
      if (latencyMs <= 0) return answerHealth(res);
      const timer = setTimeout(() => {
        pending.delete(timer);
        answerHealth(res);
      }, latencyMs);
      pending.add(timer);
      return;
    }
    if (req.method === 'GET' && path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      return void res.end('HELIX simulator (Vigil demo). Health: GET /api/v1/health\n');
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'not_found', path }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  let closing: Promise<void> | undefined;

  const waitForRequests: HelixSim['waitForRequests'] = async (n, predicate = () => true, waitOpts = {}) => {
    const timeoutMs = waitOpts.timeoutMs ?? 10_000;
    // The n-th match, counting the requests already answered (waitForRecord scans those first).
    let seen = 0;
    await waitForRecord(
      events,
      'health',
      healthRequests,
      (r) => predicate(r) && ++seen >= n,
      timeoutMs,
      () => `HELIX sim: ${seen}/${n} matching health requests (${healthRequests.length} answered in total)`,
    );
    return healthRequests.filter(predicate).slice(0, n);
  };

  return {
    url,
    healthRequests,
    setHealthy: (b) => {
      healthy = b;
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    waitForRequests,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of pending) clearTimeout(timer);
        pending.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
