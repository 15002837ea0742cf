import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { Agent, type AgentOptions } from '../../src/agent.js';
import { loadConfig } from '../../src/config/load.js';
import type { VigilConfig, VigilConfigInput } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { loadRules } from '../../src/rules/loader.js';
import { startHelixSim, type HelixSim } from '../../src/demo/helix-sim.js';
import {
  slackDefaultRateLimit,
  startSlackEmulator,
  type SlackEmulator,
  type SlackRateLimit,
} from '../../src/demo/slack-emulator.js';
import { startSmtpSink, type SmtpSink } from '../../src/demo/smtp-sink.js';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * One isolated world per test: its own PostgreSQL schema, Redis key prefix, Slack emulator, SMTP
 * sink and HELIX simulator. `cleanup()` drops it all and fails if an agent leaked a connection.
 */
export interface TestEnv {
  id: string;
  schema: string;
  prefix: string;
  slack: SlackEmulator;
  smtp: SmtpSink;
  helix: HelixSim;
  db: pg.Pool;
  redis: Redis;
  config(overrides?: Partial<VigilConfigInput>): VigilConfig;
  agent(config?: VigilConfig, options?: AgentOptions): Agent;
  cleanup(): Promise<void>;
}

export interface TestEnvOptions {
  healthEvery?: string;
  /** The health probe's timeout (default 100ms): raise it where a slow run must not count as a failure. */
  healthTimeout?: string;
  /** Slack's per-channel limit in the emulator: `true` for Slack's (about 1/s), off by default. */
  slackRateLimit?: SlackRateLimit | true;
}

export async function createTestEnv(opts: TestEnvOptions = {}): Promise<TestEnv> {
  const id = randomBytes(4).toString('hex');
  const schema = `t_${id}`;
  const prefix = `vt-${id}`;
  const rateLimit = opts.slackRateLimit === true ? slackDefaultRateLimit : (opts.slackRateLimit ?? false);
  const [slack, smtp, helix] = await Promise.all([
    startSlackEmulator({ rateLimit }),
    startSmtpSink(),
    startHelixSim(),
  ]);
  const db = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const redis = new Redis(REDIS_URL);
  const agents: Agent[] = [];
  const config = (overrides: Partial<VigilConfigInput> = {}) =>
    loadConfig({
      env: {},
      object: {
        agentId: `test-${id}-${agents.length}`,
        database: { url: DATABASE_URL, schema, poolSize: 4 },
        redis: { url: REDIS_URL, prefix },
        http: { host: '127.0.0.1', port: 0 },
        slack: { token: 'xoxb-test', apiUrl: slack.url, channel: 'C0ALERTS', timeout: '2s' },
        email: { smtpUrl: smtp.url, from: 'vigil@example.test', to: ['oncall@example.test'] },
        rules: {
          // The shipped api-health rule alone (a copy; a unit test keeps it equal): the other HELIX
          // rules watch a database, a log and a port that a test world does not have.
          dir: 'test/fixtures/rules-api-health',
          vars: {
            HELIX_API_URL: helix.url,
            HELIX_HEALTH_EVERY: opts.healthEvery ?? '200ms',
            // A probe's timeout must be less than its interval; every test interval is above this.
            HELIX_HEALTH_TIMEOUT: opts.healthTimeout ?? '100ms',
          },
        },
        notify: { concurrency: 4, backoff: '50ms', sweepEvery: '100ms', recheckEvery: '200ms' },
        log: { level: 'silent' },
        ...overrides,
      },
    });
  return {
    id,
    schema,
    prefix,
    slack,
    smtp,
    helix,
    db,
    redis,
    config,
    agent(cfg = config(), options = {}) {
      const agent = new Agent(cfg, {
        log: createLogger({ level: process.env.VIGIL_TEST_LOG ?? 'silent' }),
        rules: loadRules(cfg.rules.dir, cfg.rules.vars),
        ...options,
      });
      agents.push(agent);
      return agent;
    },
    async cleanup() {
      await Promise.allSettled(agents.map((a) => a.close()));
      // A closed socket leaves the server's list a moment later: look again, within a bound.
      let leaks = await findLeaks(db, redis, prefix, `test-${id}-`);
      for (const deadline = performance.now() + 3000; leaks.length && performance.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        leaks = await findLeaks(db, redis, prefix, `test-${id}-`);
      }
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await Promise.allSettled([slack.close(), smtp.close(), helix.close()]);
      redis.disconnect();
      await db.end();
      if (leaks.length) throw new Error(`leaked connections after close(): ${leaks.join(', ')}`);
    },
  };
}

/** Connections an agent of this test left open after close(). */
async function findLeaks(db: pg.Pool, redis: Redis, prefix: string, agentPrefix: string): Promise<string[]> {
  const clients = ((await redis.client('LIST')) as string).split('\n');
  const redisLeaks = clients.filter((line) => line.includes(`name=vigil-${prefix}-`));
  const { rows } = await db.query<{ application_name: string }>(
    `SELECT application_name FROM pg_stat_activity WHERE application_name LIKE $1`,
    [`vigil ${agentPrefix}%`],
  );
  return [
    ...redisLeaks.map((l) => `redis ${/name=(\S+)/.exec(l)?.[1]}`),
    ...rows.map((r) => `postgres ${r.application_name}`),
  ];
}
