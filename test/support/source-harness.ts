import type { Queue } from 'bullmq';
import type { VigilEvent } from '../../src/contracts/event.js';
import type { Emit, Source } from '../../src/contracts/source.js';
import type { VigilConfig } from '../../src/config/schema.js';
import { createPool } from '../../src/db/pool.js';
import { Health } from '../../src/health.js';
import { createLogger, type Logger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { eventsBatcher } from '../../src/queues/batcher.js';
import { createRedis } from '../../src/queues/connection.js';
import { closeQueues, createQueues } from '../../src/queues/queues.js';
import { sourceKinds } from '../../src/sources/registry.js';

/**
 * An agent's sources without its rule engine: the real sources, the real batcher and the real events
 * queue, with nothing taking jobs off it, so a test can read every event that reached Redis.
 */
export interface SourceHarness {
  sources: Source[];
  metrics: Metrics;
  health: Health;
  /** Events this harness's sources emitted and had confirmed durable. */
  emitted: number;
  /** Every event in the events queue (all harnesses of one prefix write to it). */
  queued(): Promise<VigilEvent[]>;
  close(): Promise<void>;
}

export async function startSources(
  config: VigilConfig,
  opts: { agentId: string; log?: Logger },
): Promise<SourceHarness> {
  const log = opts.log ?? createLogger({ level: process.env.VIGIL_TEST_LOG ?? 'silent' });
  const prefix = config.redis.prefix;
  const client = createRedis(config.redis.url, 'client', prefix);
  const workerConn = createRedis(config.redis.url, 'worker', prefix);
  const queues = createQueues(client, prefix);
  const pool = createPool(config.database, `vigil ${opts.agentId}`);
  const metrics = new Metrics();
  const health = new Health();
  const batcher = eventsBatcher(queues.events, config.events, () => undefined);
  const sources = sourceKinds.build(config.sources, {
    config,
    rules: { rules: [], probes: [] },
    pool,
    client,
    workerConn,
    queues,
    metrics,
    health,
    log,
    agentId: opts.agentId,
  });
  const harness: SourceHarness = {
    sources,
    metrics,
    health,
    emitted: 0,
    queued: () => queuedEvents(queues.events),
    async close() {
      await Promise.allSettled(sources.map((s) => s.close()));
      await batcher.close();
      await closeQueues(queues);
      await pool.end();
      client.disconnect();
      workerConn.disconnect();
    },
  };
  const emit: Emit = async (events) => {
    await Promise.all(events.map((ev) => batcher.add(ev)));
    harness.emitted += events.length;
  };
  for (const source of sources) await source.start(emit);
  return harness;
}

async function queuedEvents(queue: Queue): Promise<VigilEvent[]> {
  const jobs = await queue.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed']);
  return jobs.flatMap((job) => (job.data as { events: VigilEvent[] }).events);
}
