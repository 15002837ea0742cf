import type { Redis } from 'ioredis';

/**
 * Delayed jobs that are the agent's idle state rather than unfinished work: escalations wait for an
 * ack SLA, and scheduled jobs (probes, sweepers, ticks, canaries) wait for their next run.
 */
const idleWhenDelayed = /escalat|probe|sweep|schedul|tick|canary|heartbeat/;

/**
 * Tells whether the agent still has work queued, whatever queues it uses (found by their BullMQ
 * keys, so a queue the agent adds later is seen too), and counts every command it sends so they can
 * be taken out of the Redis counters.
 */
export class QueueWatch {
  private names: string[] = [];
  readonly own = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  get queues(): readonly string[] {
    return this.names;
  }

  private count(cmd: string, by = 1): void {
    this.own.set(cmd, (this.own.get(cmd) ?? 0) + by);
  }

  /** Every queue that has ever held a job: `<prefix>:<queue>:id` is its job id counter. */
  async discover(): Promise<readonly string[]> {
    const found = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:*:id`, 'COUNT', 10_000);
      this.count('scan');
      for (const key of keys) found.add(key.slice(this.prefix.length + 1, -':id'.length));
      cursor = next;
    } while (cursor !== '0');
    this.names = [...found].sort();
    return this.names;
  }

  /** Jobs waiting, running, or (except idle-state queues) delayed for a retry. */
  async pending(): Promise<number> {
    const pipe = this.redis.pipeline();
    for (const q of this.names) {
      const key = (type: string) => `${this.prefix}:${q}:${type}`;
      pipe.llen(key('wait')).llen(key('active')).zcard(key('prioritized'));
      this.count('llen', 2);
      this.count('zcard');
      if (!idleWhenDelayed.test(q)) {
        pipe.zcard(key('delayed'));
        this.count('zcard');
      }
    }
    const results = (await pipe.exec()) ?? [];
    return results.reduce((sum, [err, n]) => sum + (err ? 1 : Number(n)), 0);
  }

  /** Jobs that failed for good in queues that deliver (not in the idle-state ones). */
  async failed(): Promise<number> {
    const pipe = this.redis.pipeline();
    const delivering = this.names.filter((q) => !idleWhenDelayed.test(q));
    for (const q of delivering) pipe.zcard(`${this.prefix}:${q}:failed`);
    this.count('zcard', delivering.length);
    const results = (await pipe.exec()) ?? [];
    return results.reduce((sum, [, n]) => sum + Number(n ?? 0), 0);
  }
}
