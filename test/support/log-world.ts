import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/load.js';
import type { VigilEvent } from '../../src/contracts/event.js';
import type { Source } from '../../src/contracts/source.js';
import { Health } from '../../src/health.js';
import { Metrics } from '../../src/metrics.js';
import { eventsBatcher } from '../../src/queues/batcher.js';
import { closeQueues, createQueues, type Queues } from '../../src/queues/queues.js';
import { ruleSchema } from '../../src/rules/schema.js';
import type { SourceContext } from '../../src/sources/kind.js';
import { logKind } from '../../src/sources/logs/log-source.js';
import { REDIS_URL } from './env.js';
import { captureLogs, type LogCapture } from './log-capture.js';

/**
 * A log source on its own, wired as the agent wires it: events go through the real batcher onto the
 * real events queue in Redis (own key prefix), with no worker taking them, so a test reads back
 * exactly what was made durable. Files and state live in a temp folder.
 */
export interface LogWorld {
  dir: string;
  metrics: Metrics;
  health: Health;
  logs: LogCapture;
  /**
   * Creates and starts a source; `spec` is the `sources:` entry without kind (name defaults to helix).
   * Each signal gets a rule matching it, except those left out of `ruled` when it is given.
   */
  start(spec: Record<string, unknown>, ruled?: readonly string[]): Promise<Source>;
  /** Every event on the events queue, in the order they were queued. */
  events(): Promise<VigilEvent[]>;
  /** Waits until the events queue holds at least `n` events (it only grows: no worker takes them). */
  queued(n: number): Promise<VigilEvent[]>;
  cleanup(): Promise<void>;
}

export async function createLogWorld(): Promise<LogWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-log-'));
  const prefix = `vt-log-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queues: Queues = createQueues(redis, prefix);
  const batcher = eventsBatcher(
    queues.events,
    { batchSize: 200, linger: 2, maxInFlight: 4, maxBuffered: 10_000 },
    () => undefined,
  );
  const metrics = new Metrics();
  const health = new Health();
  const logs = captureLogs();
  const sources: Source[] = [];
  const config = loadConfig({
    env: {},
    object: {
      database: { url: 'postgres://postgres@127.0.0.1:5432/postgres' },
      redis: { url: REDIS_URL, prefix },
      stateDir: join(dir, 'state'),
      log: { level: 'silent' },
    },
  });
  const world: LogWorld = {
    dir,
    metrics,
    health,
    logs,
    async start(spec, ruled) {
      const parsed = logKind.schema.parse({ kind: 'log', name: 'helix', pollEvery: '20ms', ...spec });
      const rules = parsed.signals
        .filter((s) => ruled === undefined || ruled.includes(s.name))
        .map((s) =>
          ruleSchema.parse({
            id: `rule-${s.name}`,
            title: s.name,
            severity: 'warning',
            ackSla: '1h',
            match: { source: 'log', name: s.name },
            condition: { kind: 'consecutive', count: 1 },
          }),
        );
      // A log source uses only these parts of the context: it opens no database or queue of its own.
      const ctx = {
        config,
        rules: { rules, probes: [] },
        metrics,
        health,
        log: logs.log.child({ source: parsed.name }),
        agentId: 'test',
      } as unknown as SourceContext;
      const source = logKind.create(parsed, ctx);
      sources.push(source);
      await source.start((events) => Promise.all(events.map((e) => batcher.add(e))).then(() => undefined));
      return source;
    },
    async events() {
      const jobs = await queues.events.getJobs(['waiting', 'prioritized', 'delayed'], 0, -1, true);
      return jobs.flatMap((j) => (j.data as { events: VigilEvent[] }).events);
    },
    async queued(n) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const events = await world.events();
        if (events.length >= n) return events;
        if (Date.now() > deadline) throw new Error(`waited 20 s for ${n} events, have ${events.length}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async cleanup() {
      await Promise.allSettled(sources.map((s) => s.close()));
      await batcher.close();
      await closeQueues(queues);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return world;
}
