import { Queue, type Job, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Agent } from '../src/agent.js';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { createRedis } from '../src/queues/connection.js';
import { createWorker } from '../src/queues/queues.js';
import { benchRules } from './eval-workload.js';

/**
 * One agent (or, as the baseline, a bare BullMQ worker on the same queue) in a process of its own,
 * so its RSS is its own; forked by bench/evaluation.ts. It counts the events of completed jobs;
 * once `warmup` are done it resets Redis's counters and starts the clock, and at `total` it reports
 * the time, the Redis counters and its memory, then waits to be told to close.
 */
export interface EvalChildArgs {
  mode: 'agent' | 'bare';
  redisUrl: string;
  dbUrl: string;
  schema: string;
  prefix: string;
  warmup: number;
  total: number;
}

export interface EvalChildDone {
  type: 'done';
  events: number;
  seconds: number;
  commandstats: string;
  rss: number;
  maxRss: number;
  heapUsed: number;
  /** CPU seconds over the measured phase: this process's, and the redis-server's (INFO cpu). */
  cpu: number;
  redisCpu: number;
}

type EventsJob = Job<{ events: unknown[] }>;
const args = JSON.parse(process.argv[2] as string) as EvalChildArgs;
const send = (m: object) => process.send?.(m);
const stats = new Redis(args.redisUrl);
const redisCpu = async () => {
  const info = await stats.info('cpu');
  const field = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
};
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function startAgent(): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const config = loadConfig({
    env: {},
    object: {
      agentId: `bench-eval-${process.pid}`,
      database: { url: args.dbUrl, schema: args.schema },
      redis: { url: args.redisUrl, prefix: args.prefix },
      log: { level: 'silent' },
    },
  });
  const agent = new Agent(config, {
    log: createLogger({ level: 'silent' }),
    rules: benchRules(),
    channels: new Map(),
    http: false,
  });
  await agent.start();
  // The events worker is the pipeline's first (src/pipeline.ts); its 'completed' events mark decisions made.
  const running = (agent as unknown as { running: { workers: Worker[] } }).running;
  return { worker: running.workers[0] as Worker, close: () => agent.close() };
}

async function startBare(): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const conn = createRedis(args.redisUrl, 'worker', args.prefix);
  // The same worker the agent builds (BullMQ fetches and parses each job), with a processor that only counts.
  const worker = createWorker(
    'events',
    conn,
    args.prefix,
    (job: EventsJob) => Promise.resolve(job.data.events.length),
    { concurrency: 4, log: createLogger({ level: 'silent' }) },
  );
  void worker.run();
  await worker.waitUntilReady();
  return {
    worker: worker as unknown as Worker,
    close: async () => {
      await worker.close();
      await conn.quit();
    },
  };
}

async function main(): Promise<void> {
  let cpu0 = cpuSeconds();
  let redis0 = await redisCpu();
  const { worker, close } = args.mode === 'agent' ? await startAgent() : await startBare();
  let done = 0;
  let t0: number | undefined = args.warmup === 0 ? performance.now() : undefined;
  let from = 0;
  let reported = false;
  worker.on('completed', (job: EventsJob) => {
    done += job.data.events.length;
    if (t0 === undefined && done >= args.warmup) {
      t0 = performance.now();
      from = done;
      cpu0 = cpuSeconds();
      void stats.config('RESETSTAT');
      void redisCpu().then((c) => (redis0 = c));
    }
    if (!reported && done >= args.total) {
      reported = true;
      const seconds = (performance.now() - (t0 as number)) / 1000;
      const cpu = cpuSeconds() - cpu0;
      void Promise.all([stats.info('commandstats'), redisCpu()]).then(([commandstats, rc]) => {
        const m = process.memoryUsage();
        send({
          type: 'done',
          events: done - from,
          seconds,
          commandstats,
          rss: m.rss,
          heapUsed: m.heapUsed,
          maxRss: process.resourceUsage().maxRSS * 1024,
          cpu,
          redisCpu: rc - redis0,
        } satisfies EvalChildDone);
      });
    }
  });
  process.on('message', (m: { type: string }) => {
    if (m.type !== 'close') return;
    void close()
      .then(() => stats.quit())
      .then(() => process.exit(0));
  });
  // The bench fills the queue paused: nothing is done before the count above listens.
  const queue = new Queue('events', { connection: stats, prefix: args.prefix });
  await queue.resume();
  await queue.close();
  if (t0 !== undefined) t0 = performance.now();
  send({ type: 'ready' });
}

main().catch((err: unknown) => {
  console.error('eval child failed:', err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
