import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { Transitions } from '../../src/incidents/transitions.js';
import { createLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { createRedis } from '../../src/queues/connection.js';
import { closeQueues, createQueues, type Queues } from '../../src/queues/queues.js';
import { RuleEngine } from '../../src/rules/engine.js';
import { seriesKey } from '../../src/rules/fingerprint.js';
import { loadRules } from '../../src/rules/loader.js';
import { WindowStore } from '../../src/rules/window-store.js';
import { SeriesStore } from '../../src/rules/series.js';
import { ThresholdStore } from '../../src/rules/thresholds.js';
import { routeToAll } from '../support/routing.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const rulesDir = fileURLToPath(new URL('../../rules/', import.meta.url));
const rules = loadRules(rulesDir, { HELIX_API_URL: 'http://127.0.0.1:8015' }, {}).rules;
const FINGERPRINT = 'api-health{service="helix-api"}';

/** Connections used only to set up, clean up and look for leaks; never by the code under test. */
let admin: pg.Pool;
let adminRedis: Redis;
beforeAll(() => {
  admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  adminRedis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await admin.end();
  await adminRedis.quit();
});

interface World {
  id: string;
  schema: string;
  prefix: string;
  pool: pg.Pool;
  redis: Redis;
  queues: Queues;
  metrics: Metrics;
  thresholds: ThresholdStore;
  engine: RuleEngine;
  /** Warnings and errors the engine logged, parsed. */
  logs: Array<Record<string, unknown>>;
  incidents(): Promise<Array<Record<string, unknown>>>;
  transitions(): Promise<Array<Record<string, unknown>>>;
}

let current: World | undefined;

async function world(): Promise<World> {
  const id = randomBytes(4).toString('hex');
  const schema = `t_engine_${id}`;
  const prefix = `vt-engine-${id}`;
  const pool = createPool({ url: DATABASE_URL, schema, poolSize: 4 }, `vigil test-engine-${id}`);
  const redis = createRedis(REDIS_URL, 'client', prefix);
  const queues = createQueues(redis, prefix);
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const metrics = new Metrics();
  const log = createLogger({ level: 'warn', destination: sink });
  const thresholds = new ThresholdStore(pool, rules, { log, maxAgeMs: 1000 });
  const engine = new RuleEngine({
    rules,
    series: new SeriesStore(redis),
    windows: new WindowStore(redis, prefix),
    thresholds,
    transitions: new Transitions(pool),
    ...routeToAll(['slack', 'email']),
    notify: queues.notify,
    leaseForMs: 60_000,
    digest: { threshold: 10, windowMs: 60_000 },
    metrics,
    log,
    agentId: `test-engine-${id}`,
    prefix,
    maxFutureSkewMs: 60_000,
  });
  current = {
    id,
    schema,
    prefix,
    pool,
    redis,
    queues,
    metrics,
    thresholds,
    engine,
    logs,
    async incidents() {
      const { rows } = await admin.query(`SELECT * FROM ${schema}.vigil_incidents ORDER BY id`);
      return rows;
    },
    async transitions() {
      const { rows } = await admin.query(
        `SELECT incident_id, seq, from_state, to_state, actor, value, note
         FROM ${schema}.vigil_incident_transitions ORDER BY incident_id, seq`,
      );
      return rows;
    },
  };
  await migrate(pool, schema);
  return current;
}

afterEach(async () => {
  const w = current;
  current = undefined;
  if (!w) return;
  await closeQueues(w.queues);
  await w.redis.quit();
  await w.pool.end();
  await admin.query(`DROP SCHEMA IF EXISTS ${w.schema} CASCADE`);
  const keys = await adminRedis.keys(`${w.prefix}:*`);
  if (keys.length) await adminRedis.del(...keys);
  await expectNoLeaks(w);
});

/** Fails if a connection this test opened is still open on either server once it is closed. */
async function expectNoLeaks(w: World): Promise<void> {
  const find = async () => {
    const clients = ((await adminRedis.client('LIST')) as string)
      .split('\n')
      .filter((l) => l.includes(`name=vigil-${w.prefix}-`));
    const { rows } = await admin.query(
      `SELECT application_name FROM pg_stat_activity WHERE application_name = $1`,
      [`vigil test-engine-${w.id}`],
    );
    return [...clients, ...rows.map((r) => String(r.application_name))];
  };
  // A closed socket leaves the server's list a moment later: wait for it, within a bound.
  const deadline = performance.now() + 3000;
  let leaks = await find();
  while (leaks.length && performance.now() < deadline) {
    await new Promise((resolve) => setImmediate(resolve));
    leaks = await find();
  }
  expect(leaks, 'connections left open').toEqual([]);
}

const base = Date.now() - 60_000;
function probe(n: number, ok: boolean, extra: Record<string, unknown> = {}) {
  return {
    id: `helix-api-health-run-${n}`,
    source: 'probe',
    name: 'helix-api-health',
    at: new Date(base + n * 5000).toISOString(),
    host: 'agent-1',
    labels: { service: 'helix-api' },
    ok,
    ...(ok ? {} : { data: { error: 'HTTP 503' } }),
    ...extra,
  };
}

/** What the batch left owed: one row per transition and channel, `incident/seq/channel`. */
async function owed(w: World): Promise<string[]> {
  const { rows } = await admin.query<{ key: string }>(
    `SELECT incident_id || '/' || seq || '/' || channel AS key FROM ${w.schema}.vigil_deliveries
     WHERE state = 'owed' ORDER BY 1`,
  );
  return rows.map((r) => r.key);
}

/** Notify jobs waiting, per channel: each names the lease of the rows it sends. */
async function notifyJobs(w: World): Promise<Record<string, number>> {
  const counts = await Promise.all(
    (['slack', 'email'] as const).map(async (c) => [
      c,
      (await w.queues.notify[c].getJobs(['waiting'])).length,
    ]),
  );
  return Object.fromEntries(counts);
}

describe('RuleEngine.processBatch on real Redis and PostgreSQL', () => {
  it('rejects malformed events, counts and logs them, and still processes the valid ones', async () => {
    const w = await world();
    const { id: _missing, ...noId } = probe(2, false);
    const batch = [
      probe(1, false),
      noId,
      probe(2, false),
      { ...probe(3, false), id: 'bad-at', at: 'yesterday at noon' },
      { ...probe(3, false), id: 'wrong-type', ok: 'false' },
      // Valid, but no rule watches it: accepted and otherwise ignored.
      { ...probe(9, false), id: 'other', name: 'some-other-probe' },
      probe(3, false),
    ];
    const result = await w.engine.processBatch(batch, 'batch-1');
    expect(result).toEqual({ accepted: 4, rejected: 3, opened: 1, resolved: 0 });

    expect(w.metrics.value('vigil_events_rejected_total', { reason: 'schema' })).toBe(3);
    expect(w.metrics.value('vigil_events_total')).toBe(4);
    expect(await w.metrics.render()).toContain('vigil_events_rejected_total{reason="schema"} 3');
    expect(w.metrics.value('vigil_incidents_opened_total', { rule: 'api-health' })).toBe(1);

    // Each rejected event is logged with where it was and what was wrong with it.
    const rejected = w.logs.filter((l) => l.msg === 'event rejected');
    expect(rejected.map((l) => l.where)).toEqual(['batch-1[1]', 'batch-1[3]', 'batch-1[4]']);
    expect(JSON.stringify(rejected[0]!.problems)).toMatch(/^\["id: /);
    expect(JSON.stringify(rejected[1]!.problems)).toMatch(/^\["at: /);
    expect(JSON.stringify(rejected[2]!.problems)).toMatch(/^\["ok: /);

    const incidents = await w.incidents();
    expect(incidents).toHaveLength(1);
    const incident = incidents[0]!;
    expect(incident).toMatchObject({
      fingerprint: FINGERPRINT,
      rule_id: 'api-health',
      state: 'firing',
      severity: 'critical',
      value: 3,
      ack_sla_ms: '300000', // bigint: pg returns it as text
      labels: { service: 'helix-api' },
    });
    expect(incident.summary).toBe('3 consecutive failures of helix-api-health: HTTP 503');
    // It started with the first failure of the run, not when the rule fired.
    expect((incident.started_at as Date).toISOString()).toBe(probe(1, false).at);

    expect(await owed(w)).toEqual([`${incident.id}/1/email`, `${incident.id}/1/slack`]);
    expect(await notifyJobs(w)).toEqual({ slack: 1, email: 1 });
    // The SLA escalation is due at the ack SLA.
    expect((incident.escalate_at as Date).getTime()).toBe(Date.parse(probe(1, false).at) + 300_000);
  });

  it('rejects an event dated an hour ahead, counts and logs it, and still fires on real failures', async () => {
    const w = await world();
    const now = Date.now();
    const real = (n: number) => ({
      ...probe(n, false),
      id: `real-${n}`,
      at: new Date(now - (4 - n) * 1000).toISOString(),
    });
    // A pass from the future would, in event time, follow every real failure and resolve them away.
    const future = { ...probe(0, true), id: 'from-the-future', at: new Date(now + 3_600_000).toISOString() };
    expect(await w.engine.processBatch([real(1), future], 'events job 7')).toEqual({
      accepted: 1,
      rejected: 1,
      opened: 0,
      resolved: 0,
    });
    expect(w.metrics.value('vigil_events_rejected_total', { reason: 'future' })).toBe(1);
    const [logged] = w.logs.filter((l) => l.msg === 'event rejected');
    expect(logged).toMatchObject({
      where: 'events job 7[1]',
      reason: 'future',
      event: 'from-the-future',
      at: future.at,
    });
    expect(logged!.aheadMs).toBeGreaterThan(3_500_000);
    expect(await adminRedis.hget(seriesKey(w.prefix, FINGERPRINT), 'window')).not.toContain(
      'from-the-future',
    );

    expect(await w.engine.processBatch([real(2), real(3)], 'events job 8')).toMatchObject({ opened: 1 });
    const [incident] = await w.incidents();
    expect(incident).toMatchObject({ state: 'firing', value: 3 });
    expect((incident!.started_at as Date).toISOString()).toBe(real(1).at);
    expect(w.metrics.value('vigil_events_rejected_total', { reason: 'future' })).toBe(1);
  });

  it('applies observations from a batch evaluated late in their place, and counts them', async () => {
    const w = await world();
    // The events worker runs batches in parallel: the newer batch finishes first.
    expect((await w.engine.processBatch([probe(4, false), probe(5, false)], 'newer')).opened).toBe(0);
    const older = [probe(1, true), probe(2, false), probe(3, false)];
    expect((await w.engine.processBatch(older, 'older')).opened).toBe(1);
    const [incident] = await w.incidents();
    expect(incident).toMatchObject({ state: 'firing', value: 4 });
    // Its failures began with the second probe run, whichever batch said so first.
    expect((incident!.started_at as Date).toISOString()).toBe(probe(2, false).at);
    expect(w.metrics.value('vigil_events_late_total', { rule: 'api-health' })).toBe(3);
    expect(w.metrics.value('vigil_events_too_late_total', { rule: 'api-health' })).toBe(0);
  });

  it('counts and logs an observation older than anything its series keeps, and carries on', async () => {
    const w = await world();
    const passes = Array.from({ length: 40 }, (_, i) => probe(i - 40, true));
    await w.engine.processBatch(passes, 'passes');
    const result = await w.engine.processBatch([probe(-100, false)], 'events job 9');
    expect(result).toEqual({ accepted: 1, rejected: 0, opened: 0, resolved: 0 });
    expect(w.metrics.value('vigil_events_late_total', { rule: 'api-health' })).toBe(1);
    expect(w.metrics.value('vigil_events_too_late_total', { rule: 'api-health' })).toBe(1);
    const warned = w.logs.filter((l) => String(l.msg).startsWith('observations too late'));
    expect(warned).toEqual([
      expect.objectContaining({
        where: 'events job 9',
        rule: 'api-health',
        fingerprint: FINGERPRINT,
        tooLate: 1,
      }),
    ]);
    const failures = [probe(1, false), probe(2, false), probe(3, false)];
    expect((await w.engine.processBatch(failures, 'later')).opened).toBe(1);
  });

  it('does not fire before the rule file’s count', async () => {
    const w = await world();
    const result = await w.engine.processBatch([probe(1, false), probe(2, false)], 'b');
    expect(result).toEqual({ accepted: 2, rejected: 0, opened: 0, resolved: 0 });
    expect(await w.incidents()).toEqual([]);
    expect(await owed(w)).toEqual([]);
    expect(await notifyJobs(w)).toEqual({ slack: 0, email: 0 });
  });

  it('uses a threshold from the thresholds table over the rule file’s default, and audits the change', async () => {
    const w = await world();
    await w.thresholds.set('api-health', 'count', 2, 'alice', 'flaky network: alert sooner');
    const result = await w.engine.processBatch([probe(1, false), probe(2, false)], 'b');
    expect(result.opened).toBe(1);
    const [incident] = await w.incidents();
    expect(incident).toMatchObject({ state: 'firing', value: 2 });

    await w.thresholds.set('api-health', 'count', 4, 'bob', 'too noisy');
    // Setting the same value again is not a change.
    await w.thresholds.set('api-health', 'count', 4, 'bob', 'too noisy');
    const { rows } = await admin.query(
      `SELECT rule_id, key, old_value, new_value, changed_by, reason
       FROM ${w.schema}.vigil_threshold_history ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        rule_id: 'api-health',
        key: 'count',
        old_value: null,
        new_value: 2,
        changed_by: 'alice',
        reason: 'flaky network: alert sooner',
      },
      {
        rule_id: 'api-health',
        key: 'count',
        old_value: 2,
        new_value: 4,
        changed_by: 'bob',
        reason: 'too noisy',
      },
    ]);

    // A plain-SQL change is credited to the database user, not to whoever set the row last.
    await admin.query(`UPDATE ${w.schema}.vigil_thresholds SET value = 6 WHERE rule_id = 'api-health'`);
    const { rows: last } = await admin.query(
      `SELECT old_value, new_value, changed_by FROM ${w.schema}.vigil_threshold_history ORDER BY id DESC LIMIT 1`,
    );
    expect(last).toEqual([{ old_value: 4, new_value: 6, changed_by: 'postgres' }]);
  });

  it('ignores a threshold row that would break the rule (count 0 by plain SQL) and says so once', async () => {
    const w = await world();
    await expect(w.thresholds.set('api-health', 'count', 0, 'alice', 'oops')).rejects.toThrow(
      /count must be a whole number ≥ 1/,
    );
    await admin.query(
      `INSERT INTO ${w.schema}.vigil_thresholds (rule_id, key, value) VALUES ('api-health', 'count', 0)`,
    );
    // A passing probe must not fire it, and the rule file's 3 still applies.
    expect((await w.engine.processBatch([probe(1, true)], 'b1')).opened).toBe(0);
    expect((await w.engine.processBatch([probe(2, false), probe(3, false)], 'b2')).opened).toBe(0);
    w.thresholds.invalidate();
    expect((await w.engine.processBatch([probe(4, false)], 'b3')).opened).toBe(1);
    const warnings = w.logs.filter((l) => l.msg === 'threshold row ignored');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ rule: 'api-health', key: 'count', value: 0 });
  });

  it('a row for one series (count{service="…"}) tunes only that series; the rule-wide number holds for the rest', async () => {
    const w = await world();
    await w.thresholds.set('api-health', 'count{service="helix-api"}', 1, 'alice', 'the API pages at once');
    await expect(
      w.thresholds.set('api-health', 'count{host="x"}', 1, 'alice', 'wrong label'),
    ).rejects.toThrow(/does not name exactly the groupBy labels \(service\)/);
    const other = (n: number) => probe(n, false, { id: `worker-${n}`, labels: { service: 'helix-worker' } });
    expect((await w.engine.processBatch([other(1), other(2)], 'b1')).opened).toBe(0);
    expect((await w.engine.processBatch([probe(3, false)], 'b2')).opened).toBe(1);
    expect((await w.engine.processBatch([other(4)], 'b3')).opened).toBe(1);
    expect((await w.incidents()).map((i) => i.fingerprint)).toEqual([
      FINGERPRINT,
      'api-health{service="helix-worker"}',
    ]);
  });

  it('opens one incident and owes each notification once when the same batch is processed twice', async () => {
    const w = await world();
    const batch = [probe(1, false), probe(2, false), probe(3, false)];
    expect((await w.engine.processBatch(batch, 'b')).opened).toBe(1);
    const [incident] = await w.incidents();

    // A re-delivered job: the series already acted on it.
    expect(await w.engine.processBatch(batch, 'b-again')).toEqual({
      accepted: 3,
      rejected: 0,
      opened: 0,
      resolved: 0,
    });
    // A worker that crashed after opening but before recording it in Redis: the retry finds the
    // transition still pending and redoes it, which must still be one incident and one job each.
    await adminRedis.hset(seriesKey(w.prefix, FINGERPRINT), 'syncedFires', '0');
    expect((await w.engine.processBatch(batch, 'b-retry')).opened).toBe(0);
    expect(await adminRedis.hget(seriesKey(w.prefix, FINGERPRINT), 'syncedFires')).toBe('1');

    expect(await w.incidents()).toHaveLength(1);
    expect(await w.transitions()).toHaveLength(1);
    expect(await owed(w)).toEqual([`${incident!.id}/1/email`, `${incident!.id}/1/slack`]);
    expect(await notifyJobs(w)).toEqual({ slack: 1, email: 1 });
    expect(w.metrics.value('vigil_incidents_opened_total', { rule: 'api-health' })).toBe(1);
  });

  it('resolves the incident when the probe passes again, with a transition for each change', async () => {
    const w = await world();
    await w.engine.processBatch([probe(1, false), probe(2, false), probe(3, false)], 'b1');
    const result = await w.engine.processBatch([probe(4, true)], 'b2');
    expect(result).toEqual({ accepted: 1, rejected: 0, opened: 0, resolved: 1 });

    const [incident] = await w.incidents();
    expect(incident).toMatchObject({ state: 'resolved', seq: 2 });
    expect((incident!.resolved_at as Date).toISOString()).toBe(probe(4, true).at);
    expect(await w.transitions()).toEqual([
      {
        incident_id: incident!.id,
        seq: 1,
        from_state: null,
        to_state: 'firing',
        actor: `test-engine-${w.id}`,
        value: 3,
        note: '3 consecutive failures of helix-api-health: HTTP 503',
      },
      {
        incident_id: incident!.id,
        seq: 2,
        from_state: 'firing',
        to_state: 'resolved',
        actor: `test-engine-${w.id}`,
        value: null,
        note: 'condition cleared',
      },
    ]);
    const id = incident!.id as string;
    expect(await owed(w)).toEqual([`${id}/1/email`, `${id}/1/slack`, `${id}/2/email`, `${id}/2/slack`]);
    // Nothing escalates a resolved incident.
    expect(incident!.escalate_at).toBeNull();

    // More passing probes change nothing; a new run of failures is a new incident.
    expect((await w.engine.processBatch([probe(5, true)], 'b3')).resolved).toBe(0);
    await w.engine.processBatch([probe(6, false), probe(7, false), probe(8, false)], 'b4');
    const incidents = await w.incidents();
    expect(incidents.map((i) => i.state)).toEqual(['resolved', 'firing']);
    expect(await w.transitions()).toHaveLength(3);
  });

  it('opens and resolves an incident whose fire and recovery arrive in the same batch', async () => {
    const w = await world();
    const result = await w.engine.processBatch(
      [probe(1, false), probe(2, false), probe(3, false), probe(4, true)],
      'backlog',
    );
    expect(result).toMatchObject({ opened: 1, resolved: 1 });
    const [incident] = await w.incidents();
    expect(incident).toMatchObject({ state: 'resolved', value: 3 });
    expect((incident!.started_at as Date).toISOString()).toBe(probe(1, false).at);
    expect(await w.transitions()).toHaveLength(2);
  });

  it('leaves no incident firing when a slow worker acts on a fire after another already resolved it', async () => {
    const w = await world();
    // Worker A sees the fire; before it acts, worker B sees fire and recovery and acts on both.
    const fired = [probe(1, false), probe(2, false), probe(3, false)];
    await w.engine.processBatch(fired, 'a');
    await adminRedis.hset(seriesKey(w.prefix, FINGERPRINT), 'syncedFires', '0');
    await w.engine.processBatch([probe(4, true)], 'b');
    // A's late retry of its batch finds the fire still looking pending (it never recorded it).
    await adminRedis.hset(seriesKey(w.prefix, FINGERPRINT), 'syncedFires', '0');
    await w.engine.processBatch(fired, 'a-retry');

    const incidents = await w.incidents();
    expect(incidents.map((i) => i.state)).toEqual(['resolved']);
  });
});
