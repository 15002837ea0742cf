import {
  DelayedError,
  Queue,
  RATE_LIMIT_ERROR,
  UnrecoverableError,
  Worker,
  type Job,
  type JobsOptions,
} from 'bullmq';
import type { Redis } from 'ioredis';
import { RetryableError, VigilError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { ChannelName } from '../contracts/channels.js';
import {
  notifyChannels,
  notifyQueueName,
  queueNames,
  type NotifyJob,
  type QueueName,
  type QueuePayloads,
} from '../contracts/queues.js';

export type Queues = { [K in QueueName]: Queue<QueuePayloads[K]> } & {
  notify: Readonly<Record<ChannelName, Queue<NotifyJob>>>;
};

/** Retention: enough to dedupe a re-added job id, bounded so Redis does not grow without limit. */
const defaults: { [K in QueueName]: JobsOptions } & { notify: JobsOptions } = {
  events: {
    attempts: 10,
    backoff: { type: 'vigil', delay: 200 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 86400 },
  },
  // Delivery retries are the outbox's (bounded by time, not attempts); a job that fails anyway (its
  // agent lost PostgreSQL mid-send) is tried a few times, and its rows outlive it.
  notify: {
    attempts: 5,
    backoff: { type: 'vigil', delay: 500 },
    removeOnComplete: true,
    removeOnFail: { age: 86400 },
  },
  remediate: { attempts: 1, removeOnComplete: { age: 86400 }, removeOnFail: { age: 7 * 86400 } },
  probes: { attempts: 1, removeOnComplete: true, removeOnFail: { count: 100 } },
};

export function createQueues(connection: Redis, prefix: string): Queues {
  const make = <T>(name: string, opts: JobsOptions) => {
    const queue = new Queue<T>(name, { connection, prefix, defaultJobOptions: opts });
    // BullMQ repeats here the errors of the connection it was given, which the agent's connection
    // watch already counts and logs once per outage; without a listener it would print each to stderr.
    queue.on('error', () => undefined);
    return queue;
  };
  const notify = Object.fromEntries(
    notifyChannels.map((c) => [c, make<NotifyJob>(notifyQueueName(c), defaults.notify)]),
  ) as Record<ChannelName, Queue<NotifyJob>>;
  return {
    events: make(queueNames.events, defaults.events),
    remediate: make(queueNames.remediate, defaults.remediate),
    probes: make(queueNames.probes, defaults.probes),
    notify,
  };
}

/** Every queue, notify ones included, for metrics and shutdown. */
export function allQueues(queues: Queues): Queue[] {
  const { notify, ...rest } = queues;
  return [...Object.values(rest), ...Object.values(notify)] as Queue[];
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.allSettled(allQueues(queues).map((q) => q.close()));
}

const connectionCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return (
    (typeof code === 'string' && connectionCodes.has(code)) || /Connection is closed/i.test(errorMessage(err))
  );
}

/** Honors a Retry-After the failure carried; otherwise exponential with jitter, capped. */
export function backoffDelay(attemptsMade: number, baseMs: number, err?: Error, maxMs = 300_000): number {
  if (err instanceof RetryableError && err.retryAfterMs !== undefined) return err.retryAfterMs;
  const exp = Math.min(baseMs * 2 ** Math.max(0, attemptsMade - 1), maxMs);
  return Math.round(exp * (0.8 + Math.random() * 0.4));
}

/**
 * A worker whose processor may throw VigilError: unrecoverable ones fail the job at once, everything
 * else goes back to BullMQ's retries with our backoff. `autorun: false` so `start()` is explicit.
 */
export function createWorker<D, R>(
  name: string,
  connection: Redis,
  prefix: string,
  processor: (job: Job<D>, token?: string) => Promise<R>,
  opts: {
    concurrency: number;
    log: Logger;
    backoffBaseMs?: number;
    limiter?: { max: number; duration: number };
  },
): Worker<D, R> {
  const log = opts.log.child({ worker: name });
  const worker = new Worker<D, R>(
    name,
    async (job, token) => {
      try {
        return await processor(job, token);
      } catch (err) {
        // The processor moved its job to later, or paused its queue, on purpose: not a failure.
        if (err instanceof DelayedError || (err as Error).message === RATE_LIMIT_ERROR) throw err;
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
      ...(opts.limiter ? { limiter: opts.limiter } : {}),
      settings: {
        backoffStrategy: (attemptsMade, _type, err) =>
          backoffDelay(attemptsMade, opts.backoffBaseMs ?? 1000, err),
      },
    },
  );
  // A worker's connection errors are the outage the agent's connection watch already reports once;
  // logging each reconnect attempt here would flood the log for as long as Redis is away.
  worker.on('error', (err) => {
    if (!isConnectionError(err)) log.error({ err: errorMessage(err) }, 'worker error');
  });
  return worker;
}
