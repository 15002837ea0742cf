import type pg from 'pg';
import type { ChannelName, NotificationKind } from '../contracts/channels.js';
import type { ThreadRef } from './channel.js';

/** An owed notification a job holds the lease of. */
export interface OwedRow {
  incidentId: string;
  channel: ChannelName;
  /** Where on the channel: a target name of vigil.yaml; '' or the channel's name is its default destination. */
  target: string;
  seq: number;
  kind: NotificationKind;
  /** An escalation step's own target: the message mentions who the target pages. */
  page: boolean;
  /** Times it may have reached the service already: failed tries, and leases whose job was lost. */
  attempts: number;
  createdAt: Date;
  inDigest: boolean;
  fallbackFrom: ChannelName | null;
  note: string;
  /** The audit trail's note of the transition this row tells (see NotificationContext.why). */
  why: string;
  /** The remediation run the transition is about (approval buttons carry it). */
  runId: string | null;
  /** The channel's first message of the incident, which follow-ups update or reply to. */
  thread: ThreadRef | undefined;
  /** State of the incident's `opened` row on this channel ('owed', 'sent', …), and whether it went to a digest. */
  openedState: string | null;
  openedInDigest: boolean;
}

export interface Sent {
  incidentId: string;
  target: string;
  seq: number;
  ref: ThreadRef | undefined;
  digestId?: string;
}

type Key = Pick<OwedRow, 'incidentId' | 'target' | 'seq'>;

interface Row {
  incident_id: string;
  channel: ChannelName;
  target: string;
  seq: number;
  kind: NotificationKind;
  page: boolean;
  attempts: number;
  created_at: Date;
  in_digest: boolean;
  fallback_from: ChannelName | null;
  note: string;
  why: string | null;
  run_id: string | null;
  thread: { externalId: string; channelId: string | null } | null;
  opened_state: string | null;
  opened_in_digest: boolean | null;
}

const keysOf = (keys: readonly Key[]) => [
  keys.map((k) => k.incidentId),
  keys.map((k) => k.seq),
  keys.map((k) => k.target),
];

/**
 * `vigil_deliveries` as the outbox of owed notifications: what a channel should get and has not.
 * Every method is one statement over a whole job's rows.
 */
export class Outbox {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Takes (or keeps) the lease on the rows named `leaseId` for another `forMs`, and returns them
   * oldest transition first. Rows the sweeper gave to another job meanwhile are not returned.
   */
  async claim(leaseId: string, forMs: number): Promise<OwedRow[]> {
    const { rows } = await this.pool.query<Row>(
      `UPDATE vigil_deliveries d SET lease_until = now() + $2 * interval '1 millisecond'
       WHERE d.lease_id = $1 AND d.state = 'owed'
       RETURNING d.incident_id, d.channel, d.target, d.seq, d.kind, d.page, d.attempts, d.created_at, d.in_digest, d.fallback_from,
         d.note,
         (SELECT t.note FROM vigil_incident_transitions t WHERE t.incident_id = d.incident_id AND t.seq = d.seq) AS why,
         (SELECT t.run_id FROM vigil_incident_transitions t WHERE t.incident_id = d.incident_id AND t.seq = d.seq) AS run_id,
         (SELECT json_build_object('externalId', t.external_id, 'channelId', t.channel_id) FROM vigil_deliveries t
          WHERE t.incident_id = d.incident_id AND t.channel = d.channel AND t.target = d.target AND t.state = 'sent'
            AND t.digest_id IS NULL AND t.external_id IS NOT NULL
          ORDER BY t.seq LIMIT 1) AS thread,
         (SELECT o.state FROM vigil_deliveries o WHERE o.incident_id = d.incident_id AND o.channel = d.channel
            AND o.target = d.target AND o.kind = 'opened' ORDER BY o.seq LIMIT 1) AS opened_state,
         (SELECT o.in_digest FROM vigil_deliveries o WHERE o.incident_id = d.incident_id AND o.channel = d.channel
            AND o.target = d.target AND o.kind = 'opened' ORDER BY o.seq LIMIT 1) AS opened_in_digest`,
      [leaseId, forMs],
    );
    return rows
      .map((r): OwedRow => ({
        incidentId: r.incident_id,
        channel: r.channel,
        target: r.target,
        seq: r.seq,
        kind: r.kind,
        page: r.page,
        attempts: r.attempts,
        createdAt: r.created_at,
        inDigest: r.in_digest,
        fallbackFrom: r.fallback_from,
        note: r.note,
        why: r.why ?? '',
        runId: r.run_id,
        thread: r.thread
          ? r.thread.channelId
            ? { externalId: r.thread.externalId, channelId: r.thread.channelId }
            : { externalId: r.thread.externalId }
          : undefined,
        openedState: r.opened_state,
        openedInDigest: r.opened_in_digest ?? false,
      }))
      .sort((a, b) => Number(a.incidentId) - Number(b.incidentId) || a.seq - b.seq);
  }

  async markSent(channel: ChannelName, sent: readonly Sent[]): Promise<void> {
    if (sent.length === 0) return;
    await this.pool.query(
      `UPDATE vigil_deliveries d SET state = 'sent', delivered_at = now(), external_id = u.external_id,
         channel_id = u.channel_id, digest_id = u.digest_id, lease_id = NULL, lease_until = NULL, last_error = NULL
       FROM unnest($2::bigint[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bigint[])
         AS u(incident_id, seq, target, external_id, channel_id, digest_id)
       WHERE d.incident_id = u.incident_id AND d.channel = $1 AND d.target = u.target AND d.seq = u.seq
         AND d.state = 'owed'`,
      [
        channel,
        ...keysOf(sent),
        sent.map((s) => s.ref?.externalId ?? null),
        sent.map((s) => s.ref?.channelId ?? null),
        sent.map((s) => s.digestId ?? null),
      ],
    );
  }

  /**
   * Gives rows back: tried again at `delayMs[i]` from now, by whichever job the sweeper makes. With an
   * `error` they count as tried (a later try first looks whether the service took them after all).
   */
  async retryLater(
    channel: ChannelName,
    lease: string,
    keys: readonly Key[],
    delayMs: readonly number[],
    error: string | null,
  ): Promise<void> {
    if (keys.length === 0) return;
    // Only rows this lease still holds: a row given to another job meanwhile is that job's.
    await this.pool.query(
      `UPDATE vigil_deliveries d SET lease_id = NULL, lease_until = NULL,
         next_at = now() + u.delay * interval '1 millisecond', last_error = coalesce($6, d.last_error),
         attempts = d.attempts + CASE WHEN $6::text IS NULL THEN 0 ELSE 1 END
       FROM unnest($2::bigint[], $3::int[], $4::text[], $5::float8[]) AS u(incident_id, seq, target, delay)
       WHERE d.incident_id = u.incident_id AND d.channel = $1 AND d.target = u.target AND d.seq = u.seq
         AND d.state = 'owed' AND d.lease_id = $7`,
      [channel, ...keysOf(keys), delayMs, error, lease],
    );
  }

  /** A channel works again: what it holds back with a backoff is due now, not minutes later. */
  async dueNow(channel: ChannelName): Promise<void> {
    await this.pool.query(
      `UPDATE vigil_deliveries SET next_at = now()
       WHERE channel = $1 AND state = 'owed' AND next_at > now() AND lease_id IS NULL`,
      [channel],
    );
  }

  /** Keeps the lease of a job that is still sending, so the sweeper does not give its rows away. */
  async renew(lease: string, forMs: number): Promise<void> {
    await this.pool.query(
      `UPDATE vigil_deliveries SET lease_until = now() + $2 * interval '1 millisecond'
       WHERE lease_id = $1 AND state = 'owed'`,
      [lease, forMs],
    );
  }

  /**
   * A message the service refused for what it says: retrying cannot help. Kept for the record, and
   * the sweeper hands it to the other channels.
   */
  async abandon(channel: ChannelName, lease: string, keys: readonly Key[], error: string): Promise<void> {
    if (keys.length === 0) return;
    await this.pool.query(
      `UPDATE vigil_deliveries d SET state = 'abandoned', lease_id = NULL, lease_until = NULL, last_error = $5
       FROM unnest($2::bigint[], $3::int[], $4::text[]) AS u(incident_id, seq, target)
       WHERE d.incident_id = u.incident_id AND d.channel = $1 AND d.target = u.target AND d.seq = u.seq
         AND d.state = 'owed' AND d.lease_id = $6`,
      [channel, ...keysOf(keys), error, lease],
    );
  }
}
