import { DelayedError, Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { RetryableError, VigilError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { queueNames, type QueueName, type QueuePayloads } from './names.js';

export type Queues = { [K in QueueName]: Queue<QueuePayloads[K]> };

/** Retention: enough to dedupe a re-added job id, bounded so Redis does not grow without limit. */
const defaults: { [K in QueueName]: JobsOptions } = {
  events: {
    attempts: 10,
    backoff: { type: 'vigil', delay: 200 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 86400 },
  },
  notify: {
    attempts: 8,
    backoff: { type: 'vigil', delay: 1000 },
    removeOnComplete: { age: 86400 },
    removeOnFail: { age: 7 * 86400 },
  },
  escalate: { attempts: 10, backoff: { type: 'vigil', delay: 1000 }, removeOnComplete: { age: 86400 } },
  remediate: { attempts: 1, removeOnComplete: { age: 86400 }, removeOnFail: { age: 7 * 86400 } },
  probes: { attempts: 1, removeOnComplete: true, removeOnFail: { count: 100 } },
};

export function createQueues(
  connection: Redis,
  prefix: string,
  overrides: Partial<Record<QueueName, JobsOptions>> = {},
  log?: Logger,
): Queues {
  const make = <K extends QueueName>(name: K) => {
    const queue = new Queue<QueuePayloads[K]>(queueNames[name], {
      connection,
      prefix,
      defaultJobOptions: { ...defaults[name], ...overrides[name] },
    });
    // Connection errors while Redis is away: reported, not printed raw by BullMQ to stderr.
    queue.on('error', (err) => log?.warn({ queue: name, err: errorMessage(err) }, 'queue connection error'));
    return queue;
  };
  return {
    events: make('events'),
    notify: make('notify'),
    escalate: make('escalate'),
    remediate: make('remediate'),
    probes: make('probes'),
  };
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.allSettled(Object.values(queues).map((q) => q.close()));
}

/** Honors a Retry-After the failure carried; otherwise exponential with jitter, capped at 5 minutes. */
export function backoffDelay(attemptsMade: number, baseMs: number, err?: Error): number {
  if (err instanceof RetryableError && err.retryAfterMs !== undefined) return err.retryAfterMs;
  const exp = Math.min(baseMs * 2 ** Math.max(0, attemptsMade - 1), 300_000);
  return Math.round(exp * (0.8 + Math.random() * 0.4));
}

/**
 * A worker whose processor may throw VigilError: unrecoverable ones fail the job at once, everything
 * else goes back to BullMQ's retries with our backoff. `autorun: false` so `start()` is explicit.
 */
export function createWorker<K extends QueueName, R>(
  name: K,
  connection: Redis,
  prefix: string,
  processor: (job: Job<QueuePayloads[K]>, token?: string) => Promise<R>,
  opts: { concurrency: number; log: Logger; backoffBaseMs?: number },
): Worker<QueuePayloads[K], R> {
  const log = opts.log.child({ component: `worker-${name}` });
  const worker = new Worker<QueuePayloads[K], R>(
    queueNames[name],
    async (job, token) => {
      try {
        return await processor(job, token);
      } catch (err) {
        // The processor moved its job to later on purpose; not a failure.
        if (err instanceof DelayedError) throw err;
        const final = err instanceof VigilError && !err.retryable;
        log.warn(
          {
            job: job.id,
            attempt: job.attemptsMade + 1,
            code: (err as VigilError).code,
            err: errorMessage(err),
            final,
          },
          'job failed',
        );
        if (final) throw new UnrecoverableError(`${(err as VigilError).code}: ${errorMessage(err)}`);
        throw err;
      }
    },
    {
      connection,
      prefix,
      concurrency: opts.concurrency,
      autorun: false,
      settings: {
        backoffStrategy: (attemptsMade, _type, err) =>
          backoffDelay(attemptsMade, opts.backoffBaseMs ?? 1000, err),
      },
    },
  );
  worker.on('error', (err) => log.error({ err: errorMessage(err) }, 'worker error'));
  return worker;
}
