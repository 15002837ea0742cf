import type pg from 'pg';
import type { Health } from '../health.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { ChannelName } from '../contracts/channels.js';

export interface ChannelFailure {
  since: Date;
  reason: string;
  checkedAt: Date;
}

/**
 * Which channels have failed for good (a bad token, an unknown channel, SMTP auth), shared by every
 * agent through PostgreSQL. Nothing is sent to a failed channel until a check passes; its owed rows
 * wait for it and are handed to the other channels meanwhile. Reads are served from a snapshot the
 * sweeper refreshes, so the send path asks PostgreSQL nothing.
 */
export class ChannelStatus {
  private snapshot = new Map<ChannelName, ChannelFailure>();
  /** Trouble this agent saw that may pass by itself (unreachable at start, timeouts). */
  private readonly local = new Map<ChannelName, string>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly channels: readonly ChannelName[],
    private readonly health: Health,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    for (const c of channels)
      metrics.gauge('vigil_channel_up', { channel: c }, () => (this.snapshot.has(c) ? 0 : 1));
  }

  isFailed(channel: ChannelName): boolean {
    return this.snapshot.has(channel);
  }

  failures(): ReadonlyMap<ChannelName, ChannelFailure> {
    return this.snapshot;
  }

  async refresh(): Promise<void> {
    const { rows } = await this.pool.query<{
      channel: ChannelName;
      failed_since: Date;
      reason: string;
      checked_at: Date;
    }>('SELECT channel, failed_since, reason, checked_at FROM vigil_channel_status');
    this.apply(
      new Map(
        rows.map((r) => [r.channel, { since: r.failed_since, reason: r.reason, checkedAt: r.checked_at }]),
      ),
    );
  }

  async markFailed(channel: ChannelName, reason: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO vigil_channel_status (channel, failed_since, reason) VALUES ($1, now(), $2)
       ON CONFLICT (channel) DO UPDATE SET reason = EXCLUDED.reason, checked_at = now()`,
      [channel, reason],
    );
    if (!this.snapshot.has(channel))
      this.log.error(
        { channel, reason },
        'channel failed: its notifications wait and go by the other channels',
      );
    await this.refresh();
  }

  /**
   * A failure that may pass by itself (a 500, a timeout). Not a reason for /healthz by itself — a blip
   * must not page whoever watches it — but named there once what it holds up has waited too long.
   */
  noteTrouble(channel: ChannelName, problem: string): void {
    this.local.set(channel, problem);
  }

  /** The last passing trouble of a channel, while it lasts. */
  trouble(channel: ChannelName): string | undefined {
    return this.local.get(channel);
  }

  /** The check at start failed without saying the channel is unusable (unreachable): /healthz says so until it works. */
  noteStartFailure(channel: ChannelName, problem: string): void {
    this.local.set(channel, problem);
    this.health.set(`channel.${channel}.check`, problem);
  }

  /** A delivery worked. True when the channel had been in trouble (what waited can go now). */
  noteWorking(channel: ChannelName): boolean {
    this.health.set(`channel.${channel}.check`, undefined);
    const trouble = this.local.get(channel);
    if (trouble === undefined) return false;
    this.local.delete(channel);
    this.log.info({ channel, was: trouble }, 'channel delivers again');
    return true;
  }

  async markChecked(channel: ChannelName): Promise<void> {
    await this.pool.query('UPDATE vigil_channel_status SET checked_at = now() WHERE channel = $1', [channel]);
  }

  async clear(channel: ChannelName): Promise<void> {
    const { rowCount } = await this.pool.query('DELETE FROM vigil_channel_status WHERE channel = $1', [
      channel,
    ]);
    if (rowCount) this.log.info({ channel }, 'channel works again: sending what it owes');
    await this.refresh();
  }

  private apply(next: Map<ChannelName, ChannelFailure>): void {
    this.snapshot = next;
    for (const c of this.channels) {
      const f = next.get(c);
      this.health.set(`channel.${c}`, f ? `failed since ${f.since.toISOString()}: ${f.reason}` : undefined);
    }
  }
}
