import type { VigilEvent } from '../events/event.js';

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Collects events and hands them to the queue one job per batch (one job per event would cap
 * throughput far below what a log tail produces; see DESIGN.md, Events). A batch goes out when it
 * is full; otherwise, when no batch is in flight, at the end of the current turn of the event loop
 * (so a lone probe result is not held back, while events added together still travel together);
 * and while one is in flight, after at most `lingerMs`.
 */
export class Batcher {
  private buffer: VigilEvent[] = [];
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly flushFn: (events: VigilEvent[]) => Promise<void>,
    private readonly opts: {
      maxSize: number;
      lingerMs: number;
      onError: (err: unknown, events: VigilEvent[]) => void;
    },
  ) {}

  /** Resolves once the event's batch has been handed to the queue (durable in Redis). */
  add(event: VigilEvent): Promise<void> {
    if (this.closed) return Promise.reject(new Error('batcher is closed'));
    this.buffer.push(event);
    const pending = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.buffer.length >= this.opts.maxSize) this.flush();
    else if (this.inFlight.size === 0) this.immediate ??= setImmediate(() => this.flush());
    else this.timer ??= setTimeout(() => this.flush(), this.opts.lingerMs);
    return pending;
  }

  flush(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    if (this.buffer.length === 0) return;
    const events = this.buffer;
    const waiters = this.waiters;
    this.buffer = [];
    this.waiters = [];
    const p = this.flushFn(events).then(
      () => waiters.forEach((w) => w.resolve()),
      (err: unknown) => {
        this.opts.onError(err, events);
        waiters.forEach((w) => w.reject(err));
      },
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Flushes what is buffered and waits for every batch in flight. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }
}
