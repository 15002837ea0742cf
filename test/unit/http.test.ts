import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createHttpServer, listenHttp, type HealthCheck } from '../../src/api/server.js';
import { DependencyError } from '../../src/errors.js';
import { Health } from '../../src/health.js';
import { Metrics } from '../../src/metrics.js';

const ok: HealthCheck = { name: 'postgres', check: async () => undefined };

function server(checks: HealthCheck[], health = new Health(), metrics = new Metrics()) {
  return createHttpServer({ agentId: 'a1', checks, health, metrics, checkTimeoutMs: 200 });
}

describe('/healthz', () => {
  it('answers 200 ok with each dependency check and no problems', async () => {
    const app = server([ok]);
    const res = await app.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', agent: 'a1', checks: { postgres: 'ok' } });
    await app.close();
  });

  it('answers 503 degraded with every problem a component reported, and 200 once they clear', async () => {
    const health = new Health();
    const app = server([ok], health);
    health.set('slack', 'invalid_auth: token rejected since 10:02; alerts go by email');
    health.set('canary', 'last came back 95 s ago');
    const res = await app.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      status: 'degraded',
      agent: 'a1',
      checks: { postgres: 'ok' },
      problems: {
        canary: 'last came back 95 s ago',
        slack: 'invalid_auth: token rejected since 10:02; alerts go by email',
      },
    });
    health.set('slack', undefined);
    health.set('canary', undefined);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    await app.close();
  });

  it('a dependency that fails or hangs is a problem named after it; /healthz itself answers', async () => {
    const app = server([
      ok,
      { name: 'redis', check: () => new Promise(() => {}) },
      {
        name: 'smtp',
        check: async () => {
          throw new Error('ECONNREFUSED');
        },
      },
    ]);
    const res = await app.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      status: 'degraded',
      checks: { postgres: 'ok', redis: 'no answer within 200 ms', smtp: 'ECONNREFUSED' },
      problems: { redis: 'no answer within 200 ms', smtp: 'ECONNREFUSED' },
    });
    await app.close();
  });
});

describe('/metrics', () => {
  it('serves the Prometheus text format with HELP and TYPE', async () => {
    const metrics = new Metrics();
    metrics.inc('vigil_incidents_opened_total', { rule: 'api-health' });
    metrics.gauge('vigil_channel_up', { channel: 'slack' }, () => 1);
    const app = server([ok], new Health(), metrics);
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toContain('# TYPE vigil_incidents_opened_total counter');
    expect(res.body).toMatch(/^vigil_incidents_opened_total\{rule="api-health"\} 1$/m);
    expect(res.body).toMatch(/^vigil_channel_up\{channel="slack"\} 1$/m);
    await app.close();
  });
});

describe('listening', () => {
  it('a taken port is one clear error naming the port and how to choose another', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    const app = server([ok]);
    try {
      const err = await listenHttp(app, '127.0.0.1', port).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DependencyError);
      expect((err as DependencyError).message).toBe(`HTTP port ${port} on 127.0.0.1 is already in use`);
      expect((err as DependencyError).hint).toContain('VIGIL_HTTP_PORT or http.port');
    } finally {
      await app.close();
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
