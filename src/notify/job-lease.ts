import type { ChannelName } from '../contracts/channels.js';
import type { Outbox, Sent } from './outbox.js';

/** Rows recorded in one statement at most; a long job records as it goes, not only at its end. */
const RECORD_EVERY_ROWS = 50;
const RECORD_EVERY_MS = 200;

/**
 * A running notify job's hold on its rows: renews the lease while the job sends (so the sweeper never
 * gives a row away mid-job), and records sent rows soon after they went out, in small batches, so a
 * job that dies or is retried repeats little — without a commit per message.
 */
export class JobLease {
  private pending: Sent[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private readonly renewer: NodeJS.Timeout;
  private recorder: NodeJS.Timeout | undefined;
  private failure: unknown;

  constructor(
    private readonly outbox: Outbox,
    private readonly channel: ChannelName,
    readonly id: string,
    forMs: number,
  ) {
    // A renewal that fails (a lock wait, PostgreSQL away for a moment) is not the job's failure: the
    // next one, a third of the lease later, tries again before the lease can lapse.
    this.renewer = setInterval(() => {
      outbox.renew(id, forMs).catch(() => undefined);
    }, forMs / 3);
  }

  record(sent: Sent): void {
    this.pending.push(sent);
    if (this.pending.length >= RECORD_EVERY_ROWS) void this.flush();
    else this.recorder ??= setTimeout(() => void this.flush(), RECORD_EVERY_MS);
  }

  private flush(): Promise<void> {
    clearTimeout(this.recorder);
    this.recorder = undefined;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(() =>
      this.outbox.markSent(this.channel, batch).catch((err: unknown) => {
        this.failure ??= err;
      }),
    );
    return this.flushing;
  }

  /** Records what is left and stops renewing; throws if any record failed (the job is then retried). */
  async close(): Promise<void> {
    clearInterval(this.renewer);
    await this.flush();
    if (this.failure) throw this.failure;
  }
}
