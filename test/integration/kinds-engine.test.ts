import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seriesKey } from '../../src/rules/fingerprint.js';
import type { WindowSeries } from '../../src/rules/window-series.js';
import { event, kindsWorld, rule, type KindsWorld } from '../support/kinds-world.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

let admin: pg.Pool;
let adminRedis: Redis;
let w: KindsWorld | undefined;
beforeAll(() => {
  admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  adminRedis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await admin.end();
  await adminRedis.quit();
});
afterEach(async () => {
  await w?.cleanup();
  w = undefined;
});

const world = async () => (w = await kindsWorld(admin, adminRedis));

async function stored(world: KindsWorld, fingerprint: string): Promise<WindowSeries> {
  return JSON.parse((await adminRedis.get(`${seriesKey(world.prefix, fingerprint)}:w`)) as string);
}

const taskRatio = rule('task-failure-rate', {
  match: { name: 'task' },
  condition: { kind: 'ratio', value: '5%', window: '1m', minSamples: 20 },
});

describe('windowed kinds through the engine, on real Redis and PostgreSQL', () => {
  it('a ratio rule fires over its minimum and resolves as the window drains, from the tick', async () => {
    const x = await world();
    const engine = x.engine([taskRatio]);
    const t0 = x.clock.now;
    const tasks = (failed: number, passed: number) => [
      ...Array.from({ length: failed }, () => event('task', t0, { ok: false })),
      ...Array.from({ length: passed }, () => event('task', t0, { ok: true })),
    ];
    expect(await engine.processBatch(tasks(1, 2), 'b1')).toMatchObject({ opened: 0 });
    expect(await engine.processBatch(tasks(2, 15), 'b2')).toMatchObject({ opened: 1 });
    const [incident] = await x.incidents();
    expect(incident).toMatchObject({ rule_id: 'task-failure-rate', state: 'firing' });
    expect(incident!.summary).toBe('task failure rate 15 % > 5 % over 1m');
    x.clock.now = t0 + 30_000;
    expect(await engine.tick()).toMatchObject({ judged: 0 });
    x.clock.now = t0 + 62_000;
    expect(await engine.tick()).toMatchObject({ judged: 1, resolved: 1 });
    expect((await x.incidents()).map((i) => i.state)).toEqual(['resolved']);
    x.clock.now = t0 + 120_000;
    expect(await engine.tick()).toMatchObject({ judged: 0 });
  });

  it('a percentile rule fires with its p99 and the unit people read', async () => {
    const x = await world();
    const engine = x.engine([
      rule('api-latency', {
        match: { name: 'api.request' },
        condition: {
          kind: 'percentile',
          percentile: 99,
          value: 1000,
          window: '5m',
          unit: 'ms',
          label: 'latency',
        },
      }),
    ]);
    const t0 = x.clock.now;
    const batch = Array.from({ length: 100 }, (_, i) =>
      event('api.request', t0 - i * 100, { value: i < 98 ? 120 : 1420 }),
    );
    expect(await engine.processBatch(batch, 'b1')).toMatchObject({ opened: 1 });
    const [incident] = await x.incidents();
    expect(incident!.summary).toBe('p99 latency 1.42 s > 1 s over 5m');
  });

  it('absence per series: one host of three goes silent, one incident for that host only', async () => {
    const x = await world();
    const engine = x.engine([
      rule('host-heartbeat', {
        match: { name: 'heartbeat' },
        groupBy: ['host'],
        condition: { kind: 'absence', after: '30s' },
      }),
    ]);
    const t0 = x.clock.now;
    const beat = (host: string, at: number) => event('heartbeat', at, { labels: { host } });
    await engine.processBatch(
      ['a', 'b', 'c'].map((h) => beat(h, t0)),
      'b0',
    );
    for (let t = t0 + 10_000; t <= t0 + 60_000; t += 10_000) {
      x.clock.now = t;
      await engine.processBatch([beat('a', t), beat('c', t)], `b${t}`);
      await engine.tick();
    }
    const incidents = await x.incidents();
    expect(incidents.map((i) => [i.fingerprint, i.state])).toEqual([['host-heartbeat{host="b"}', 'firing']]);
    expect(incidents[0]!.summary).toBe('no heartbeat for 40s (expected within 30s)');
    x.clock.now = t0 + 65_000;
    expect(await engine.processBatch([beat('b', x.clock.now)], 'back')).toMatchObject({ resolved: 1 });
    x.clock.now = t0 + 90_000;
    await engine.tick();
    expect((await x.incidents()).map((i) => i.state)).toEqual(['resolved']);
  });

  it('two engines applying batches to one window series at once lose no count', async () => {
    const x = await world();
    const burst = rule('error-burst', {
      match: { name: 'error' },
      condition: { kind: 'rate', count: 1_000_000, window: '10m' },
    });
    const engines = [x.engine([burst]), x.engine([burst])];
    const batches = Array.from({ length: 40 }, (_, b) =>
      Array.from({ length: 5 }, () => event('error', x.clock.now - b)),
    );
    await Promise.all(batches.map((batch, i) => engines[i % 2]!.processBatch(batch, `b${i}`)));
    const s = await stored(x, 'error-burst{}');
    expect(s.v).toBe(40);
    expect(s.life.value).toBeLessThanOrEqual(200);
    const st = s.st as { b: Array<{ n: number }> };
    expect(st.b.reduce((sum, b) => sum + b.n, 0)).toBe(200);
  });

  it('a re-delivered batch (the events job retried) counts once', async () => {
    const x = await world();
    const engine = x.engine([
      rule('error-burst', {
        match: { name: 'error' },
        condition: { kind: 'rate', count: 1000, window: '10m' },
      }),
    ]);
    const batch = Array.from({ length: 50 }, () => event('error', x.clock.now));
    await engine.processBatch(batch, 'job 1');
    await engine.processBatch(batch, 'job 1, attempt 2');
    expect((await stored(x, 'error-burst{}')).life.value).toBe(50);
  });

  it('synced counts live as long as their series: none expire while firing, both after', async () => {
    const x = await world();
    const engine = x.engine([taskRatio]);
    const key = `${seriesKey(x.prefix, 'task-failure-rate{}')}:w`;
    const fails = Array.from({ length: 20 }, () => event('task', x.clock.now, { ok: false }));
    await engine.processBatch(fails, 'b1');
    expect(await adminRedis.pttl(key)).toBe(-1);
    expect(await adminRedis.pttl(`${key}:synced`)).toBe(-1);
    x.clock.now += 120_000;
    expect(await engine.tick()).toMatchObject({ resolved: 1 });
    const ttl = await adminRedis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(await adminRedis.pttl(`${key}:synced`)).toBeGreaterThan(0);
    // Written again later (no incident to act on): the synced counts are kept alive with it.
    await adminRedis.pexpire(`${key}:synced`, 5000);
    await engine.processBatch([event('task', x.clock.now, { ok: true })], 'b2');
    expect(await adminRedis.pttl(`${key}:synced`)).toBeGreaterThan(5000);
    expect(await adminRedis.get(`${key}:synced`)).toBe('1 1');
  });

  it('a rule that changes kind (consecutive → ratio, same id) keeps running', async () => {
    const x = await world();
    const before = rule('task-failure-rate', {
      match: { name: 'task' },
      condition: { kind: 'consecutive', count: 3 },
    });
    const fails = () => Array.from({ length: 20 }, () => event('task', x.clock.now, { ok: false }));
    await x.engine([before]).processBatch(fails(), 'b1');
    expect(await x.engine([taskRatio]).processBatch(fails(), 'b2')).toMatchObject({ accepted: 20 });
    const s = await stored(x, 'task-failure-rate{}');
    expect(s).toMatchObject({ k: 'ratio', life: { firing: true } });
  });

  it('a deadline entry of no window key is dropped, not judged every tick', async () => {
    const x = await world();
    const engine = x.engine([taskRatio]);
    await adminRedis.zadd(`${x.prefix}:deadlines`, x.clock.now - 1, `${x.prefix}:series:old-layout`);
    expect(await engine.tick()).toMatchObject({ judged: 0 });
    expect(await adminRedis.zcard(`${x.prefix}:deadlines`)).toBe(0);
  });

  it('a damaged series text is replaced, not retried as a conflict for ever', async () => {
    const x = await world();
    const engine = x.engine([taskRatio]);
    const key = `${seriesKey(x.prefix, 'task-failure-rate{}')}:w`;
    await adminRedis.set(key, '{"v":7,"st": oops');
    await engine.processBatch([event('task', x.clock.now, { ok: false })], 'b1');
    expect(await stored(x, 'task-failure-rate{}')).toMatchObject({ v: 1, k: 'ratio' });
  });
});
