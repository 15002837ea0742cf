import type { VigilEvent } from '../events/event.js';

/**
 * Collects events and flushes them as one job per batch: by size, or after a short linger so a
 * lone event (a probe result) is not held back. One job per event would cap throughput far below
 * what a log tail produces (see DESIGN.md, Events).
 */
export class Batcher {
  private buffer: VigilEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();
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
    else this.timer ??= setTimeout(() => this.flush(), this.opts.lingerMs);
    return pending;
  }

  private waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
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
