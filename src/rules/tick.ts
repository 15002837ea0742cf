import type { Queue } from 'bullmq';
import { jobIds, type QueuePayloads } from '../contracts/queues.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Redis } from '../queues/connection.js';
import type { RuleEngine } from './engine.js';

export interface TickDeps {
  queue: Queue<QueuePayloads['tick']>;
  /** A 'ready' after a reconnect may mean a Redis that lost everything, the scheduler too. */
  redis: Redis;
  engine: RuleEngine;
  everyMs: number;
  reassertEvery: number;
  log: Logger;
}

/**
 * Time passing as an input: one BullMQ job scheduler for the cluster (every agent upserts the same
 * id, so it ticks once, not once per agent). Kept as desired state: re-created on a reconnect or a
 * slow timer if Redis lost it, and the never-seen series are watched again.
 */
export class TickScheduler {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onReady = () => void this.reassert();

  constructor(private readonly deps: TickDeps) {}

  async start(): Promise<void> {
    await this.upsert();
    await this.deps.engine.watchUnseen();
    if (this.closed) return;
    this.deps.redis.on('ready', this.onReady);
    this.timer = setInterval(this.onReady, this.deps.reassertEvery);
  }

  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.deps.redis.off('ready', this.onReady);
    return Promise.resolve();
  }

  private async reassert(): Promise<void> {
    if (this.closed) return;
    try {
      const existing = await this.deps.queue.getJobScheduler(jobIds.tickScheduler);
      if (!existing) {
        await this.upsert();
        this.deps.log.warn('the rules tick had gone missing (Redis restarted empty?); re-created');
      }
      await this.deps.engine.watchUnseen();
    } catch (err) {
      if (!this.closed) this.deps.log.warn({ err: errorMessage(err) }, 'rules tick not checked');
    }
  }

  private async upsert(): Promise<void> {
    // Same id and interval as every other agent's: BullMQ keeps the planned run, no doubled ticks.
    await this.deps.queue.upsertJobScheduler(
      jobIds.tickScheduler,
      { every: this.deps.everyMs },
      { name: 'tick', data: {} },
    );
  }
}
