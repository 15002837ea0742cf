import type pg from 'pg';
import { withTransaction } from '../db/pool.js';
import { toIncident, type IncidentRow } from '../incidents/row.js';
import type { Incident } from '../contracts/incident.js';
import type { NotificationKind } from '../contracts/channels.js';
import type { NotifyChannel, ThreadRef } from './channel.js';
import type { OwedRow } from './outbox.js';

/** The rows of one digest message: incidents it adds, listed ones that resolved. */
export interface DigestPart {
  /** Undefined: the channel's current digest (made if the storm has none yet). */
  digestId: string | undefined;
  rows: OwedRow[];
}

/** An owed row a digest tells. */
interface Told {
  incident_id: string;
  target: string;
  seq: number;
  kind: string;
}

/**
 * Storm digests: one message per channel and storm listing every incident that opened beyond the
 * threshold. A storm's digest stays current while incidents keep opening within the window;
 * resolutions of listed incidents update the digest they are listed in.
 */
export class Digests {
  constructor(
    private readonly pool: pg.Pool,
    private readonly windowMs: number,
  ) {}

  /**
   * Splits digest rows by the digest they belong to. Follow-ups whose `opened` row is neither sent
   * nor among `rows` cannot be placed yet: they come back as `wait`.
   */
  async plan(channel: string, rows: readonly OwedRow[]): Promise<{ parts: DigestPart[]; wait: OwedRow[] }> {
    const openedHere = new Set(rows.filter((r) => r.kind === 'opened').map((r) => r.incidentId));
    const followUps = rows.filter((r) => r.kind !== 'opened' && !openedHere.has(r.incidentId));
    const { rows: placed } = followUps.length
      ? await this.pool.query<{ incident_id: string; digest_id: string }>(
          `SELECT incident_id, digest_id FROM vigil_deliveries
           WHERE channel = $1 AND kind = 'opened' AND digest_id IS NOT NULL AND incident_id = ANY($2)`,
          [channel, followUps.map((r) => r.incidentId)],
        )
      : { rows: [] };
    const digestOf = new Map(placed.map((p) => [p.incident_id, p.digest_id]));
    const parts = new Map<string | undefined, OwedRow[]>();
    const wait: OwedRow[] = [];
    for (const r of rows) {
      const id = openedHere.has(r.incidentId) ? undefined : digestOf.get(r.incidentId);
      if (!openedHere.has(r.incidentId) && id === undefined) {
        wait.push(r);
        continue;
      }
      parts.set(id, [...(parts.get(id) ?? []), r]);
    }
    return { parts: [...parts].map(([digestId, list]) => ({ digestId, rows: list })), wait };
  }

  /**
   * Sends one part: posts or updates its digest and records its rows as sent, in one transaction
   * under the channel's digest lock, so concurrent jobs extend one digest rather than start two. The
   * current digest also takes every other opening owed to it (leased to jobs still waiting behind the
   * channel's pace): one update tells them all. Returns how many rows of each kind it told.
   */
  async send(
    channel: NotifyChannel,
    part: DigestPart,
    note: string | undefined,
    /** Asked once there is something to send (the channel's pace): false sends nothing. */
    gate: () => Promise<boolean>,
  ): Promise<Partial<Record<NotificationKind, number>>> {
    return withTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext(current_schema() || $1))', [
        `.digest.${channel.name}`,
      ]);
      // Our rows that are still owed (another job's digest may have taken them meanwhile), then, for
      // the current digest, openings other jobs hold and are not touching right now (SKIP LOCKED: a
      // job renewing its lease is never waited on, so the two cannot deadlock).
      const { rows: ours } = await c.query<Told>(
        `SELECT incident_id, target, seq, kind FROM vigil_deliveries
         WHERE channel = $1 AND state = 'owed'
           AND (incident_id, seq, target) IN (SELECT * FROM unnest($2::bigint[], $3::int[], $4::text[]))
         FOR UPDATE`,
        [
          channel.name,
          part.rows.map((r) => r.incidentId),
          part.rows.map((r) => r.seq),
          part.rows.map((r) => r.target),
        ],
      );
      const { rows: taken } =
        part.digestId === undefined
          ? await c.query<Told>(
              `SELECT incident_id, target, seq, kind FROM vigil_deliveries
               WHERE channel = $1 AND state = 'owed' AND kind = 'opened' AND in_digest AND digest_id IS NULL
                 AND NOT (incident_id = ANY($2::bigint[]))
               ORDER BY created_at LIMIT 5000 FOR UPDATE SKIP LOCKED`,
              [channel.name, ours.map((r) => r.incident_id)],
            )
          : { rows: [] };
      const owed = [...ours, ...taken];
      if (owed.length === 0 || !(await gate())) return {};
      const digest = await this.digestFor(c, channel.name, part.digestId);
      const added = owed.filter((r) => r.kind === 'opened').map((r) => r.incident_id);
      const { rows } = await c.query<IncidentRow>(
        `SELECT * FROM vigil_incidents WHERE id = ANY($2::bigint[]) OR id IN (
           SELECT incident_id FROM vigil_deliveries WHERE channel = $1 AND kind = 'opened' AND digest_id = $3)`,
        [channel.name, added, digest.id],
      );
      const incidents = rows.map(toIncident);
      const byId = new Map(incidents.map((i) => [i.id, i]));
      const pick = (ids: string[]) => ids.map((id) => byId.get(id)).filter((i): i is Incident => !!i);
      const ofKind = (kind: string) => owed.filter((r) => r.kind === kind).map((r) => r.incident_id);
      const ref = await channel.sendDigest({
        digestId: digest.id,
        incidents,
        added: pick(added),
        resolved: pick(ofKind('resolved')),
        escalated: pick(ofKind('escalated')),
        thread: digest.ref,
        ...(note ? { note } : {}),
      });
      await c.query(
        'UPDATE vigil_digests SET external_id = $2, channel_id = $3, last_at = now() WHERE id = $1',
        [digest.id, ref.externalId, ref.channelId ?? null],
      );
      await c.query(
        `UPDATE vigil_deliveries d SET state = 'sent', delivered_at = now(), external_id = $3, channel_id = $4,
           digest_id = $5, lease_id = NULL, lease_until = NULL
         FROM unnest($2::bigint[], $6::int[], $7::text[]) AS u(incident_id, seq, target)
         WHERE d.channel = $1 AND d.incident_id = u.incident_id AND d.seq = u.seq AND d.target = u.target
           AND d.state = 'owed'`,
        [
          channel.name,
          owed.map((r) => r.incident_id),
          ref.externalId,
          ref.channelId ?? null,
          digest.id,
          owed.map((r) => r.seq),
          owed.map((r) => r.target),
        ],
      );
      const told: Partial<Record<NotificationKind, number>> = {};
      for (const r of owed) told[r.kind as NotificationKind] = (told[r.kind as NotificationKind] ?? 0) + 1;
      return told;
    });
  }

  private async digestFor(
    c: pg.PoolClient,
    channel: string,
    id: string | undefined,
  ): Promise<{ id: string; ref: ThreadRef | undefined }> {
    const found = await c.query<{ id: string; external_id: string | null; channel_id: string | null }>(
      id === undefined
        ? `SELECT id, external_id, channel_id FROM vigil_digests
           WHERE channel = $1 AND last_at > now() - $2 * interval '1 millisecond' ORDER BY id DESC LIMIT 1`
        : 'SELECT id, external_id, channel_id FROM vigil_digests WHERE channel = $1 AND id = $2',
      id === undefined ? [channel, this.windowMs] : [channel, id],
    );
    const row =
      found.rows[0] ??
      (
        await c.query<{ id: string; external_id: null; channel_id: null }>(
          'INSERT INTO vigil_digests (channel) VALUES ($1) RETURNING id, external_id, channel_id',
          [channel],
        )
      ).rows[0]!;
    const ref = row.external_id
      ? row.channel_id
        ? { externalId: row.external_id, channelId: row.channel_id }
        : { externalId: row.external_id }
      : undefined;
    return { id: row.id, ref };
  }
}
