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
import { startSlackEmulator, type SlackEmulator } from '../src/demo/slack-emulator.js';
import { startSmtpSink, type SmtpSink } from '../src/demo/smtp-sink.js';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const rulesDir = fileURLToPath(new URL('../rules', import.meta.url));

/** One isolated bench world: own schema, key prefix, Slack emulator, SMTP sink and one agent. */
export interface World {
  schema: string;
  prefix: string;
  config: VigilConfig;
  slack: SlackEmulator;
  smtp: SmtpSink | undefined;
  db: pg.Pool;
  redis: Redis;
  agent: Agent;
  /** The agent's own queues, seen from outside, to tell when the pipeline is idle. */
  queues: { events: Queue; notify: Queue };
  close(): Promise<void>;
}

/** Only the api-health rule, whatever else rules/ holds, with a probe interval far beyond the bench. */
function apiHealthOnly(vars: Record<string, string>): RuleSet {
  const all = loadRules(rulesDir, vars);
  const rule = all.rules.find((r) => r.id === 'api-health');
  if (!rule?.probe) throw new Error(`${rulesDir}: rule api-health with a probe not found`);
  return { rules: [rule], probes: [rule.probe] };
}

export async function createWorld(opts: { email: boolean }): Promise<World> {
  const id = randomBytes(4).toString('hex');
  const schema = `bench_${id}`;
  const prefix = `vbench-${id}`;
  const slack = await startSlackEmulator();
  const smtp = opts.email ? await startSmtpSink() : undefined;
  const db = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const redis = new Redis(REDIS_URL);
  // Nothing listens here: the one scheduled probe run at start fails on its own series, not ours.
  const vars = { HELIX_API_URL: 'http://127.0.0.1:1', HELIX_HEALTH_EVERY: '1h' };
  const config = loadConfig({
    env: {},
    object: {
      agentId: `bench-${id}`,
      database: { url: DATABASE_URL, schema, poolSize: 4 },
      redis: { url: REDIS_URL, prefix },
      http: { host: '127.0.0.1', port: 0 },
      slack: { token: 'xoxb-bench', apiUrl: slack.url, channel: 'C0ALERTS', timeout: '2s' },
      ...(smtp
        ? { email: { smtpUrl: smtp.url, from: 'vigil@example.test', to: ['oncall@example.test'] } }
        : {}),
      rules: { dir: rulesDir, vars },
      notify: { concurrency: 4, attempts: 8, backoff: '50ms' },
      log: { level: 'silent' },
    },
  });
  const agent = new Agent(config, {
    log: createLogger({ level: process.env.VIGIL_BENCH_LOG ?? 'silent' }),
    rules: apiHealthOnly(vars),
  });
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queues = {
    events: new Queue('events', { connection: conn, prefix }),
    notify: new Queue('notify', { connection: conn, prefix }),
  };
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    await agent.close();
    await Promise.allSettled([queues.events.close(), queues.notify.close()]);
    conn.disconnect();
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await Promise.allSettled([slack.close(), smtp?.close()]);
    redis.disconnect();
    await db.end();
  };
  const world: World = {
    schema,
    prefix,
    config,
    slack,
    smtp,
    db,
    redis,
    agent,
    queues,
    close: () => (closing ??= close()),
  };
  try {
    await agent.start();
  } catch (err) {
    await world.close().catch(() => undefined);
    throw err;
  }
  return world;
}
