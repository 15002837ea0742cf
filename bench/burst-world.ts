import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { Agent } from '../src/agent.js';
import { loadConfig } from '../src/config/load.js';
import type { VigilConfig, VigilConfigInput } from '../src/config/schema.js';
import type { SlackRateLimit } from '../src/demo/slack-emulator.js';
import { createLogger } from '../src/log.js';
import { ruleSchema } from '../src/rules/schema.js';
import { QueueWatch } from './queue-watch.js';
import { startRemoteReceivers, type RemoteReceivers } from './remote-receivers.js';
import type { AlertWorld } from './vigil-alerts.js';
import { apiHealthOnly, DATABASE_URL } from './world.js';

const rulesDir = fileURLToPath(new URL('../rules', import.meta.url));
export const BURST_RULE = 'bench-burst';
export const BURST_PROBE = 'bench-burst-probe';

/** `off`: every incident alone (raw throughput); `default`: whatever the build does by default. */
export type DigestMode = 'off' | 'default';

/**
 * A world for bursts: its own schema and key prefix, the receivers in their own process (Slack
 * limited or not), and agents started one lifetime at a time, so PostgreSQL's counters can be read
 * between lifetimes (see PgCounters).
 */
export interface BurstWorld {
  id: string;
  schema: string;
  prefix: string;
  receivers: RemoteReceivers;
  /** The bench's own connection to the agent's Redis: counters and idle checks only. */
  redis: Redis;
  email: boolean;
  /** Whether this build knows `notify.digest`; when it does not, the setting was left out. */
  digest: DigestMode;
  /** An agent (not started) and the view of it that single alerts need. */
  agent(label: string): { agent: Agent; view: AlertWorld; sessionName: string; watch: QueueWatch };
  config: VigilConfig;
  close(): Promise<void>;
}

/** Count 1: each series opens on its one deciding observation, so nothing needs priming. */
function burstRule(email: boolean) {
  return ruleSchema.parse({
    id: BURST_RULE,
    title: 'Bench target unreachable',
    category: 'availability',
    severity: 'critical',
    ackSla: '1h',
    match: { source: 'probe', name: BURST_PROBE },
    groupBy: ['target'],
    condition: { kind: 'consecutive', count: 1 },
    notify: email ? ['slack', 'email'] : ['slack'],
  });
}

/** Digests off (threshold 0: every incident alone, the raw throughput) or as the product has them. */
const withDigest = (object: VigilConfigInput, digest: DigestMode): VigilConfigInput =>
  digest === 'off'
    ? { ...object, notify: { ...object.notify, digest: { threshold: 0, window: '10s' } } }
    : object;

export async function createBurstWorld(opts: {
  email: boolean;
  redisUrl: string;
  slackRateLimit: SlackRateLimit;
  digest: DigestMode;
}): Promise<BurstWorld> {
  const id = randomBytes(4).toString('hex');
  const schema = `bench_${id}`;
  const prefix = `vbench-${id}`;
  const receivers = await startRemoteReceivers({ email: opts.email, slackRateLimit: opts.slackRateLimit });
  const redis = new Redis(opts.redisUrl);
  const vars = { HELIX_API_URL: 'http://127.0.0.1:1', HELIX_HEALTH_EVERY: '1h' };
  const base = apiHealthOnly(vars, receivers.smtpUrl !== undefined);
  const rules = { rules: [...base.rules, burstRule(receivers.smtpUrl !== undefined)], probes: base.probes };
  // Product defaults for pools, concurrency, attempts and backoff: a burst is about what users run.
  // Slack's own limit on (the emulator's): Vigil paces itself as shipped; off: no pacing either.
  const pace = opts.slackRateLimit === false ? { perSecond: 0, burst: 1 } : undefined;
  const config = loadConfig({
    env: {},
    object: withDigest(
      {
        agentId: `bench-${id}`,
        database: { url: DATABASE_URL, schema },
        redis: { url: opts.redisUrl, prefix },
        http: { host: '127.0.0.1', port: 0 },
        slack: {
          token: 'xoxb-bench',
          apiUrl: receivers.slackUrl,
          channel: 'C0ALERTS',
          timeout: '2s',
          ...(pace ? { rateLimit: pace } : {}),
        },
        ...(receivers.smtpUrl
          ? { email: { smtpUrl: receivers.smtpUrl, from: 'vigil@example.test', to: ['oncall@example.test'] } }
          : {}),
        rules: { dir: rulesDir, vars },
        log: { level: 'silent' },
      },
      opts.digest,
    ),
  });
  const digest = opts.digest;
  const agents: Agent[] = [];
  let closing: Promise<void> | undefined;
  const close = async () => {
    await Promise.allSettled(agents.map((a) => a.close()));
    const db = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => db.end());
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 10_000);
      if (keys.length) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
    await receivers.close();
  };
  return {
    id,
    schema,
    prefix,
    receivers,
    redis,
    email: receivers.smtpUrl !== undefined,
    digest,
    config,
    agent(label) {
      const agentId = `bench-${id}-${label}`;
      const agent = new Agent(
        { ...config, agentId },
        { log: createLogger({ level: process.env.VIGIL_BENCH_LOG ?? 'silent' }), rules },
      );
      agents.push(agent);
      const watch = new QueueWatch(redis, prefix);
      // Queues appear as they get their first job; single alerts run on a small keyspace, so look each time.
      const idle = async () => {
        await watch.discover();
        return (await watch.pending()) === 0;
      };
      const view = { prefix, redis, agent, receivers, email: receivers.smtpUrl !== undefined, idle };
      return { agent, view, sessionName: `vigil ${agentId}`, watch };
    },
    close: () => (closing ??= close()),
  };
}
