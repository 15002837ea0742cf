import type { VigilEvent } from '../contracts/event.js';

interface Entry {
  event: VigilEvent;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface BatcherOptions {
  maxSize: number;
  lingerMs: number;
  /** Batches being handed over at once; more wait in the buffer. */
  maxInFlight: number;
  /** Events in the buffer; past that, add() waits for room (see `saturated`). */
  maxBuffered: number;
  onError: (err: unknown, events: VigilEvent[]) => void;
}

/**
 * Collects events and hands them to the queue one job per batch (one job per event would cap
 * throughput far below what a log tail produces; see DESIGN.md, Events). A batch goes out when it
 * is full; otherwise, when no batch is in flight, at the end of the current turn of the event loop
 * (so a lone probe result is not held back, while events added together still travel together);
 * and while one is in flight, after at most `lingerMs`.
 *
 * Memory is bounded while the queue cannot take batches (Redis away): at most `maxInFlight` batches
 * in flight and `maxBuffered` events buffered. Past that, an event waits outside the buffer with its
 * caller, who is awaiting add() anyway; a source that cannot wait per event (a log tail) pauses on
 * `saturated` until whenReady().
 */
export class Batcher {
  private buffer: Entry[] = [];
  /** Events added while the buffer was full, in order; they enter it as room frees. */
  private waiting: Entry[] = [];
  private readyWaiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly flushFn: (events: VigilEvent[]) => Promise<void>,
    private readonly opts: BatcherOptions,
  ) {}

  /** True while the buffer is full: a new event would wait for room. */
  get saturated(): boolean {
    return this.waiting.length > 0 || this.buffer.length >= this.opts.maxBuffered;
  }

  /** Events buffered, not yet handed over. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Resolves once the buffer has room again (at once if it has). */
  whenReady(): Promise<void> {
    if (!this.saturated) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Resolves once the event's batch has been handed to the queue (durable in Redis). */
  add(event: VigilEvent): Promise<void> {
    if (this.closed) return Promise.reject(new Error('batcher is closed'));
    return new Promise<void>((resolve, reject) => {
      const entry = { event, resolve, reject };
      if (this.saturated) this.waiting.push(entry);
      else this.buffer.push(entry);
      this.schedule();
    });
  }

  /** Hands over what is buffered, as far as the in-flight bound allows; the rest follows as batches finish. */
  flush(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    while (this.buffer.length > 0 && this.inFlight.size < this.opts.maxInFlight) this.send();
  }

  /** Flushes what is buffered or waiting and waits until every batch is handed over. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private schedule(): void {
    const full = Math.min(this.opts.maxSize, this.opts.maxBuffered);
    while (this.buffer.length >= full && this.inFlight.size < this.opts.maxInFlight) this.send();
    if (this.buffer.length === 0 || this.inFlight.size >= this.opts.maxInFlight) return;
    if (this.inFlight.size === 0) this.immediate ??= setImmediate(() => this.flush());
    else this.timer ??= setTimeout(() => this.flush(), this.opts.lingerMs);
  }

  private send(): void {
    const batch = this.buffer.splice(0, this.opts.maxSize);
    this.admitWaiting();
    const events = batch.map((e) => e.event);
    const p = this.flushFn(events).then(
      () => batch.forEach((e) => e.resolve()),
      (err: unknown) => {
        this.opts.onError(err, events);
        batch.forEach((e) => e.reject(err));
      },
    );
    this.inFlight.add(p);
    void p.finally(() => {
      this.inFlight.delete(p);
      if (this.closed) this.flush();
      else this.schedule();
    });
  }

  private admitWaiting(): void {
    const room = this.opts.maxBuffered - this.buffer.length;
    if (room > 0 && this.waiting.length > 0) this.buffer.push(...this.waiting.splice(0, room));
    if (this.saturated) return;
    const ready = this.readyWaiters.splice(0);
    ready.forEach((resolve) => resolve());
  }
}

/** The batcher every source's events go through: one `events` job per batch, sized by `events:`. */
export function eventsBatcher(
  queue: { add(name: string, data: { events: VigilEvent[] }): Promise<unknown> },
  events: { batchSize: number; linger: number; maxInFlight: number; maxBuffered: number },
  onError: BatcherOptions['onError'],
): Batcher {
  return new Batcher((batch) => queue.add('batch', { events: batch }).then(() => undefined), {
    maxSize: events.batchSize,
    lingerMs: events.linger,
    maxInFlight: events.maxInFlight,
    maxBuffered: events.maxBuffered,
    onError,
  });
}
