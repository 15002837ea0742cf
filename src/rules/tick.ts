import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Redis } from '../queues/connection.js';
import type { RuleEngine } from './engine.js';

export interface TickDeps {
  redis: Redis;
  prefix: string;
  engine: RuleEngine;
  agentId: string;
  everyMs: number;
  /** How often never-seen series are watched again (a Redis that came back empty lost them). */
  rewatchEvery: number;
  log: Logger;
}

/**
 * Time passing as an input, once per cluster: every agent wakes each `everyMs`, and the one whose
 * SET NX claims that time slot judges the series whose deadline has come. A timer rather than a
 * BullMQ job scheduler, like the sweeper: it needs nothing kept in Redis to go on ticking, so a Redis
 * that restarts empty costs no tick, and it adds no worker to the agent's shutdown.
 */
export class RulesTick {
  private timer: NodeJS.Timeout | undefined;
  private rewatch: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly deps: TickDeps) {}

  async start(): Promise<void> {
    await this.deps.engine.watchUnseen();
    if (this.closed) return;
    this.timer = setInterval(() => void this.once(), this.deps.everyMs);
    this.rewatch = setInterval(() => void this.watchUnseen(), this.deps.rewatchEvery);
  }

  /**
   * Stops ticking. Idempotent. A tick under way is not awaited: while Redis is away it would wait for
   * the reconnect, and a shutdown must not; what it leaves undone the next agent's tick does.
   */
  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    clearInterval(this.rewatch);
    return Promise.resolve();
  }

  private once(): Promise<void> {
    if (this.closed || this.running) return this.running ?? Promise.resolve();
    this.running = this.claimAndTick()
      .catch((err: unknown) => {
        if (!this.closed)
          this.deps.log.warn({ err: errorMessage(err) }, 'rules tick failed; the next one retries');
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async claimAndTick(): Promise<void> {
    const { redis, prefix, everyMs, agentId, engine } = this.deps;
    const slot = Math.floor(Date.now() / everyMs);
    const won = await redis.set(`${prefix}:tick:${slot}`, agentId, 'PX', everyMs * 5, 'NX');
    if (won === 'OK') await engine.tick();
  }

  private async watchUnseen(): Promise<void> {
    if (this.closed) return;
    try {
      await this.deps.engine.watchUnseen();
    } catch (err) {
      if (!this.closed) this.deps.log.warn({ err: errorMessage(err) }, 'never-seen series not re-watched');
    }
  }
}
