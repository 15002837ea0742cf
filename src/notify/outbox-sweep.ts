import type pg from 'pg';
import type { ChannelName } from '../contracts/channels.js';

export interface OwedStats {
  channel: ChannelName;
  owed: number;
  /** Age of the oldest owed row, in seconds. */
  oldestSec: number;
}

/** A channel that carries what another owes, and the note the stand-in message shows. */
export interface HandOver {
  from: ChannelName;
  to: ChannelName;
  note: string;
  /** The note when `from` refused the message itself (its content), rather than failed. */
  refusedNote: string;
}

/** The sweeper's statements over the outbox: each handles every row it concerns in one go. */
export class OutboxSweep {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Leases owed rows that are due and held by no live job, in parts of at most `part` rows per
   * channel; returns the lease ids made, by channel. Skips `paused` channels (failed ones).
   */
  async leaseDue(
    leasePrefix: string,
    forMs: number,
    paused: readonly ChannelName[],
    part: number,
    limit = 5000,
  ): Promise<Array<{ channel: ChannelName; lease: string; rows: number }>> {
    const { rows } = await this.pool.query<{ channel: ChannelName; lease: string; rows: string }>(
      `WITH due AS (
         SELECT incident_id, channel, target, seq FROM vigil_deliveries
         WHERE state = 'owed' AND next_at <= now() AND (lease_until IS NULL OR lease_until < now())
           AND NOT (channel = ANY($3::text[]))
         ORDER BY next_at LIMIT $5 FOR UPDATE SKIP LOCKED),
       numbered AS (
         SELECT *, (row_number() OVER (PARTITION BY channel ORDER BY incident_id, seq) - 1) / $4 AS part FROM due),
       upd AS (
         UPDATE vigil_deliveries d SET lease_id = $1 || '.' || n.channel || '.' || n.part,
           lease_until = now() + $2 * interval '1 millisecond',
           -- A lapsed lease: its job may have sent the row before it was lost.
           attempts = d.attempts + CASE WHEN d.lease_id IS NULL THEN 0 ELSE 1 END
         FROM numbered n WHERE d.incident_id = n.incident_id AND d.channel = n.channel AND d.target = n.target
           AND d.seq = n.seq
         RETURNING d.channel, d.lease_id)
       SELECT channel, lease_id AS lease, count(*) AS rows FROM upd GROUP BY channel, lease_id`,
      [leasePrefix, forMs, paused, part, limit],
    );
    return rows.map((r) => ({ channel: r.channel, lease: r.lease, rows: Number(r.rows) }));
  }

  /**
   * Leases the oldest owed row of a failed channel to one trial job: the channel is back when a real
   * delivery works again (a credentials check cannot tell that a Slack channel exists).
   */
  async leaseTrial(channel: ChannelName, lease: string, forMs: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE vigil_deliveries d SET lease_id = $2, lease_until = now() + $3 * interval '1 millisecond'
       FROM (SELECT incident_id, target, seq FROM vigil_deliveries
             WHERE channel = $1 AND state = 'owed' AND (lease_until IS NULL OR lease_until < now())
             -- The least tried first: one message the service keeps refusing must not be the only test.
             ORDER BY attempts, created_at LIMIT 1 FOR UPDATE SKIP LOCKED) t
       WHERE d.channel = $1 AND d.incident_id = t.incident_id AND d.target = t.target AND d.seq = t.seq`,
      [channel, lease, forMs],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * Asks other channels to carry what `from` owes: rows of a failed channel, rows owed longer than
   * `olderThanMs`, and messages `from` refused. Owed originals stay owed (sent when the channel is
   * back); a channel that has the same transition already adds nothing. Returns how many stand-in
   * rows were made, by pair.
   */
  async handOver(
    pairs: readonly HandOver[],
    failed: readonly ChannelName[],
    olderThanMs: number,
  ): Promise<Array<{ from: ChannelName; to: ChannelName; rows: number }>> {
    if (pairs.length === 0) return [];
    const { rows } = await this.pool.query<{ from_channel: ChannelName; channel: ChannelName; rows: string }>(
      `WITH src AS (
         SELECT incident_id, channel, target, seq, kind, in_digest, state FROM vigil_deliveries
         WHERE NOT handed_over AND fallback_from IS NULL AND channel = ANY($1::text[])
           AND (state = 'abandoned' OR (state = 'owed'
             AND (channel = ANY($5::text[]) OR created_at < now() - $6 * interval '1 millisecond')))
         ORDER BY created_at LIMIT 2000 FOR UPDATE SKIP LOCKED),
       mark AS (
         UPDATE vigil_deliveries d SET handed_over = true FROM src
         WHERE d.incident_id = src.incident_id AND d.channel = src.channel AND d.target = src.target
           AND d.seq = src.seq),
       -- A stand-in goes to the other channel's own target (its default destination).
       ins AS (
         INSERT INTO vigil_deliveries (incident_id, channel, target, seq, kind, state, fallback_from, note, in_digest)
         SELECT src.incident_id, p.channel, p.channel, src.seq, src.kind, 'owed', src.channel,
           CASE WHEN src.state = 'abandoned' THEN p.refused ELSE p.note END, src.in_digest
         FROM src JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS p(from_channel, channel, note, refused)
           ON p.from_channel = src.channel
         -- The other channel told of this transition already (on any of its targets) adds nothing.
         WHERE NOT EXISTS (SELECT 1 FROM vigil_deliveries x
           WHERE x.incident_id = src.incident_id AND x.channel = p.channel AND x.seq = src.seq)
         ON CONFLICT DO NOTHING RETURNING fallback_from, channel)
       SELECT fallback_from AS from_channel, channel, count(*) AS rows FROM ins GROUP BY fallback_from, channel`,
      [
        pairs.map((p) => p.from),
        pairs.map((p) => p.to),
        pairs.map((p) => p.note),
        pairs.map((p) => p.refusedNote),
        failed,
        olderThanMs,
      ],
    );
    return rows.map((r) => ({ from: r.from_channel, to: r.channel, rows: Number(r.rows) }));
  }

  /** Gives up on rows whose incident has been resolved for longer than `retryForMs`. */
  async abandonExpired(retryForMs: number): Promise<Array<{ channel: ChannelName; rows: number }>> {
    const { rows } = await this.pool.query<{ channel: ChannelName; rows: string }>(
      `WITH gone AS (
         UPDATE vigil_deliveries d SET state = 'abandoned', lease_id = NULL, lease_until = NULL, handed_over = true,
           last_error = coalesce(d.last_error || '; ', '') || 'gave up: resolved longer than the retry period'
         FROM vigil_incidents i
         WHERE i.id = d.incident_id AND d.state = 'owed' AND i.state = 'resolved'
           AND i.resolved_at < now() - $1 * interval '1 millisecond'
         RETURNING d.channel)
       SELECT channel, count(*) AS rows FROM gone GROUP BY channel`,
      [retryForMs],
    );
    return rows.map((r) => ({ channel: r.channel, rows: Number(r.rows) }));
  }

  async stats(): Promise<OwedStats[]> {
    const { rows } = await this.pool.query<{ channel: ChannelName; owed: string; oldest: number }>(
      `SELECT channel, count(*) AS owed, extract(epoch FROM now() - min(created_at))::float8 AS oldest
       FROM vigil_deliveries WHERE state = 'owed' GROUP BY channel`,
    );
    return rows.map((r) => ({ channel: r.channel, owed: Number(r.owed), oldestSec: r.oldest }));
  }
}
