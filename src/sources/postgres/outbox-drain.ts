import type { Emit } from '../../contracts/source.js';
import type { VigilEvent } from '../../contracts/event.js';
import { withTransaction, type Pool } from '../../db/pool.js';
import { errorMessage } from '../../errors.js';
import { checkRaised, toEvent, type Raised } from './raised.js';
import { TRAILING_DRAIN_MS, claimSql, markDoneSql, type OutboxPlace } from './outbox-sql.js';

interface OutboxRow {
  id: string;
  name: unknown;
  at: Date;
  labels: unknown;
  value: unknown;
  ok: unknown;
  data: unknown;
}

export interface DrainOptions {
  pool: Pool;
  place: OutboxPlace;
  batchSize: number;
  /** The source's name: in event ids and labels. */
  source: string;
  /** The watched database's host, as the events' `host`. */
  host: string;
  emit: Emit;
  /** A row that is no event: it is marked done anyway, so it cannot hold up the rows behind it. */
  reject: (rowId: string, problems: string[]) => void;
  /** Called after every drain: undefined when it worked, else why not. */
  report: (problem: string | undefined) => void;
  /** Run before each drain: creates the outbox if it is not there yet. */
  prepare: () => Promise<void>;
  /** Whether a transaction that raised without notifying is still open: the drain follows it up. */
  raisesInFlight: () => Promise<boolean>;
}

/**
 * Drains the outbox: claims pending rows with FOR UPDATE SKIP LOCKED (another agent's drain skips
 * them), hands them over as events, and marks them done in the same transaction only once the events
 * are durable in Redis. A crash in between leaves the rows pending and a later drain sends them
 * again with the same ids, which the rule engine recognises.
 *
 * Wake-ups (notifications, reconnects, the safety timer) can come far more often than drains run:
 * one drain runs at a time, and a wake-up during it asks for one more pass after it.
 */
export class OutboxDrain {
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private trailing: NodeJS.Timeout | undefined;
  /** A follow-up is planned or being decided. */
  private following = false;
  private lastNotified = 0;

  constructor(private readonly opts: DrainOptions) {}

  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /**
   * A wake-up that also stands for rows not committed yet (vigil_raise notifies at most once per
   * NOTIFY_EVERY_MS a session): one more drain follows TRAILING_DRAIN_MS after the last of them, and
   * more while a transaction that raised without notifying is still open.
   */
  notified(): void {
    this.wake();
    this.lastNotified = performance.now();
    if (!this.following && !this.closed) this.follow();
  }

  private follow(): void {
    this.following = true;
    const armedAt = performance.now();
    this.trailing = setTimeout(() => void this.followUp(armedAt), TRAILING_DRAIN_MS);
  }

  private async followUp(armedAt: number): Promise<void> {
    this.trailing = undefined;
    // Looked at before the drain: a transaction that ends after the look is drained next time.
    const open = await this.opts.raisesInFlight().catch(() => false);
    this.wake();
    if (!this.closed && (open || this.lastNotified > armedAt)) this.follow();
    else this.following = false;
  }

  /** Lets the drain under way finish (its rows then are done, or pending again). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.trailing);
    await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.opts.prepare();
        while (!this.closed && (await this.batch()) === this.opts.batchSize);
        this.opts.report(undefined);
      } catch (err) {
        // The next wake-up (a reconnect, the safety timer) tries again; the rows stay pending.
        this.opts.report(errorMessage(err));
        return;
      }
    } while (this.again && !this.closed);
  }

  /** One transaction: claim, emit, mark done. Resolves with the number of rows claimed. */
  private async batch(): Promise<number> {
    const { pool, place, batchSize } = this.opts;
    const rejected: Array<[string, string[]]> = [];
    const claimed = await withTransaction(pool, async (client) => {
      const { rows } = await client.query<OutboxRow>(claimSql(place), [batchSize]);
      if (rows.length === 0) return 0;
      const events: VigilEvent[] = [];
      for (const row of rows) {
        const checked = checkRaised(row);
        if (checked.ok) events.push(this.toEvent(row, checked.raised));
        else rejected.push([row.id, checked.problems]);
      }
      if (events.length) await this.opts.emit(events);
      await client.query(markDoneSql(place), [rows.map((r) => r.id)]);
      return rows.length;
    });
    // Only once done for good: a batch rolled back is claimed again, and its bad rows with it.
    for (const [id, problems] of rejected) this.opts.reject(id, problems);
    return claimed;
  }

  private toEvent(row: OutboxRow, raised: Raised): VigilEvent {
    const { source, host } = this.opts;
    return toEvent(raised, { id: `pg-${source}-${row.id}`, at: row.at, host, labels: { source } });
  }
}
