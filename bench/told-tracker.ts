import type { SlackRecord } from './receivers-protocol.js';
import type { RemoteReceivers } from './remote-receivers.js';

const telling = new Set(['chat.postMessage', 'chat.update']);

/**
 * When each incident was first told in Slack: the first successful chat.postMessage or chat.update
 * whose metadata names it, alone or in a digest. Counts what Slack saw on the way.
 */
export class ToldTracker {
  /** Incident id → the emulator's stamp of the call that first told it. */
  readonly told = new Map<string, number>();
  posts = 0;
  updates = 0;
  /** Calls refused with 429 (the emulator's rate limit). */
  limited = 0;
  /** Successful calls carrying a digest. */
  digests = 0;
  /** Incidents told before mark(): not part of what is being waited for. */
  private earlier = new Set<string>();
  private readonly stop: () => void;
  private waiting: { n: number; resolve: () => void } | undefined;

  constructor(receivers: RemoteReceivers) {
    this.stop = receivers.onSlack((call) => this.see(call));
  }

  private see(call: SlackRecord): void {
    if (!telling.has(call.method)) return;
    if (call.status === 429) this.limited++;
    if (call.status !== 200) return;
    if (call.method === 'chat.update') this.updates++;
    else this.posts++;
    if (call.digest) this.digests++;
    for (const id of call.incidents) if (!this.told.has(id)) this.told.set(id, call.hr);
    if (this.waiting && this.newlyTold() >= this.waiting.n) this.waiting.resolve();
  }

  /** From now on, count only incidents not told yet (e.g. after single alerts, before a burst). */
  mark(): void {
    this.earlier = new Set(this.told.keys());
    this.posts = this.updates = this.limited = this.digests = 0;
  }

  newlyTold(): number {
    return this.told.size - this.earlier.size;
  }

  /** Resolves true once `n` more incidents have been told since mark(); false on timeout or abort. */
  until(n: number, timeoutMs: number, giveUp?: AbortSignal): Promise<boolean> {
    if (this.newlyTold() >= n) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (all: boolean) => {
        clearTimeout(timer);
        giveUp?.removeEventListener('abort', onAbort);
        this.waiting = undefined;
        resolve(all);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      giveUp?.addEventListener('abort', onAbort);
      this.waiting = { n, resolve: () => done(true) };
    });
  }

  /** The first and last stamps among `ids`, and how many of them were told. */
  span(ids: readonly string[]): { first: number; last: number; count: number } {
    let first = Infinity;
    let last = -Infinity;
    let count = 0;
    for (const id of ids) {
      const at = this.told.get(id);
      if (at === undefined) continue;
      count++;
      first = Math.min(first, at);
      last = Math.max(last, at);
    }
    return { first, last, count };
  }

  close(): void {
    this.stop();
  }
}
