import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { Transitions } from '../../src/incidents/transitions.js';
import { createLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { createRedis } from '../../src/queues/connection.js';
import { closeQueues, createQueues, type Queues } from '../../src/queues/queues.js';
import { RuleEngine } from '../../src/rules/engine.js';
import { ruleSchema, type Rule } from '../../src/rules/schema.js';
import { SeriesStore } from '../../src/rules/series.js';
import { ThresholdStore } from '../../src/rules/thresholds.js';
import { WindowStore } from '../../src/rules/window-store.js';
import { routeToAll } from './routing.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A rule from its distinctive parts. */
export function rule(id: string, fields: Record<string, unknown>): Rule {
  return ruleSchema.parse({ id, title: id, severity: 'high', ackSla: '15m', notify: ['slack'], ...fields });
}

/**
 * Engines over one PostgreSQL schema and Redis prefix, on a clock the test moves: as many agents
 * sharing a cluster. `cleanup()` closes and drops everything.
 */
export interface KindsWorld {
  schema: string;
  prefix: string;
  clock: { now: number };
  admin: pg.Pool;
  adminRedis: Redis;
  engine(rules: readonly Rule[]): RuleEngine;
  incidents(): Promise<Array<Record<string, unknown>>>;
  cleanup(): Promise<void>;
}

export async function kindsWorld(admin: pg.Pool, adminRedis: Redis): Promise<KindsWorld> {
  const id = randomBytes(4).toString('hex');
  const schema = `t_kinds_${id}`;
  const prefix = `vt-kinds-${id}`;
  const clock = { now: Date.now() };
  const pool = createPool({ url: DATABASE_URL, schema, poolSize: 4 }, `vigil test-kinds-${id}`);
  await migrate(pool, schema);
  const opened: Array<{ redis: Redis; queues: Queues }> = [];
  const log = createLogger({ level: 'silent' });
  return {
    schema,
    prefix,
    clock,
    admin,
    adminRedis,
    engine(rules) {
      const redis = createRedis(REDIS_URL, 'client', `${prefix}-${opened.length}`);
      const queues = createQueues(redis, prefix);
      opened.push({ redis, queues });
      return new RuleEngine({
        rules,
        series: new SeriesStore(redis),
        windows: new WindowStore(redis, prefix),
        thresholds: new ThresholdStore(pool, rules, { log, maxAgeMs: 1000 }),
        transitions: new Transitions(pool),
        ...routeToAll(['slack']),
        notify: queues.notify,
        leaseForMs: 60_000,
        digest: { threshold: 10, windowMs: 60_000 },
        metrics: new Metrics(),
        log,
        agentId: `test-kinds-${id}`,
        prefix,
        maxFutureSkewMs: 60_000,
        now: () => clock.now,
      });
    },
    async incidents() {
      const { rows } = await admin.query(`SELECT * FROM ${schema}.vigil_incidents ORDER BY id`);
      return rows;
    },
    async cleanup() {
      for (const o of opened) {
        await closeQueues(o.queues);
        await o.redis.quit();
      }
      await pool.end();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      const keys = await adminRedis.keys(`${prefix}:*`);
      if (keys.length) await adminRedis.del(...keys);
    },
  };
}

let n = 0;

/** An event of `name` at `atMs`. */
export function event(name: string, atMs: number, fields: Record<string, unknown> = {}) {
  return {
    id: `ev-${n++}`,
    source: 'log',
    name,
    at: new Date(atMs).toISOString(),
    host: 'h',
    labels: {},
    ...fields,
  };
}
