import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { Agent } from '../src/agent.js';
import { loadConfig } from '../src/config/load.js';
import type { VigilConfig } from '../src/config/schema.js';
import { createLogger } from '../src/log.js';
import { loadRules, type RuleSet } from '../src/rules/loader.js';
import { startRemoteReceivers, type RemoteReceivers } from './remote-receivers.js';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const rulesDir = fileURLToPath(new URL('../rules', import.meta.url));

/**
 * One isolated bench world: own schema, key prefix, one agent, and the Slack emulator and SMTP sink
 * in a child process of their own.
 */
export interface World {
  schema: string;
  prefix: string;
  config: VigilConfig;
  receivers: RemoteReceivers;
  email: boolean;
  db: pg.Pool;
  redis: Redis;
  agent: Agent;
  /** The agent's own queues, seen from outside, to tell when the pipeline is idle. */
  queues: { events: Queue; notify: Queue };
  /** No event or notification waiting or running. */
  idle(): Promise<boolean>;
  close(): Promise<void>;
}

/** Only the api-health rule, whatever else rules/ holds, with a probe interval far beyond the bench. */
export function apiHealthOnly(vars: Record<string, string>, email = true): RuleSet {
  const all = loadRules(rulesDir, vars);
  const rule = all.rules.find((r) => r.id === 'api-health');
  if (!rule?.probe) throw new Error(`${rulesDir}: rule api-health with a probe not found`);
  // Without an email channel the rule must not name it: its notifications would wait for one.
  const notify = email ? rule.notify : rule.notify.filter((c) => c !== 'email');
  return { rules: [{ ...rule, notify }], probes: [rule.probe] };
}

export async function createWorld(opts: { email: boolean }): Promise<World> {
  const id = randomBytes(4).toString('hex');
  const schema = `bench_${id}`;
  const prefix = `vbench-${id}`;
  const receivers = await startRemoteReceivers({ email: opts.email });
  // Everything after the child is up is undone by close(), whatever step fails.
  const steps: (() => Promise<unknown>)[] = [];
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const step of steps.reverse()) await step().catch((err: unknown) => errors.push(err));
    await receivers.close().catch((err: unknown) => errors.push(err));
    if (errors.length) throw errors[0];
  };
  try {
    const db = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    steps.push(() => db.end());
    const redis = new Redis(REDIS_URL);
    steps.push(async () => redis.disconnect());
    steps.push(async () => {
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    });
    // Nothing listens here: the one scheduled probe run at start fails on its own series, not ours.
    const vars = { HELIX_API_URL: 'http://127.0.0.1:1', HELIX_HEALTH_EVERY: '1h' };
    const config = loadConfig({
      env: {},
      object: {
        agentId: `bench-${id}`,
        database: { url: DATABASE_URL, schema, poolSize: 4 },
        redis: { url: REDIS_URL, prefix },
        http: { host: '127.0.0.1', port: 0 },
        // The emulator here has no rate limit, so Vigil does not pace itself either.
        slack: {
          token: 'xoxb-bench',
          apiUrl: receivers.slackUrl,
          channel: 'C0ALERTS',
          timeout: '2s',
          rateLimit: { perSecond: 0, burst: 1 },
        },
        ...(receivers.smtpUrl
          ? { email: { smtpUrl: receivers.smtpUrl, from: 'vigil@example.test', to: ['oncall@example.test'] } }
          : {}),
        rules: { dir: rulesDir, vars },
        // Hundreds of alerts a minute would be a storm: digests off, so each is measured alone.
        notify: { concurrency: 4, backoff: '50ms', digest: { threshold: 0, window: '1m' } },
        log: { level: 'silent' },
      },
    });
    const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    steps.push(async () => conn.disconnect());
    const queues = {
      events: new Queue('events', { connection: conn, prefix }),
      notify: new Queue('notify-slack', { connection: conn, prefix }),
    };
    steps.push(() => Promise.allSettled([queues.events.close(), queues.notify.close()]));
    const agent = new Agent(config, {
      log: createLogger({ level: process.env.VIGIL_BENCH_LOG ?? 'silent' }),
      rules: apiHealthOnly(vars, receivers.smtpUrl !== undefined),
    });
    steps.push(() => agent.close());
    await agent.start();
    const idle = async () => {
      const states = ['waiting', 'active', 'prioritized'] as const;
      const [e, n] = await Promise.all([
        queues.events.getJobCounts(...states),
        queues.notify.getJobCounts(...states),
      ]);
      return [...Object.values(e), ...Object.values(n)].every((c) => c === 0);
    };
    return {
      schema,
      prefix,
      config,
      receivers,
      email: receivers.smtpUrl !== undefined,
      db,
      redis,
      agent,
      queues,
      idle,
      close: () => (closing ??= close()),
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
