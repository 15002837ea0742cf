import type pg from 'pg';
import { withTransaction } from '../db/pool.js';
import type { ChannelName } from '../contracts/channels.js';
import type { Rule } from '../rules/schema.js';
import type { HoldVerdict } from './holds.js';
import { owedToTold } from './owed.js';
import type { RoutePlan } from './routing.js';
import { toIncident, type IncidentRow } from './row.js';
import type { Incident } from '../contracts/incident.js';

/** The lease the rows a statement inserts are given: a job named after it sends them. */
export interface Lease {
  id: string;
  forMs: number;
}

export interface OpenRequest {
  rule: Rule;
  fingerprint: string;
  labels: Record<string, string>;
  value: number;
  summary: string;
  startedAt: Date;
  /** Its route: the targets told, the escalation policy. */
  plan: RoutePlan;
  /** Recorded but not sent (silenced, inhibited, flapping), and why. */
  hold?: HoldVerdict | undefined;
}

export interface ResolveRequest {
  fingerprint: string;
  at: Date;
}

/** What a set of transitions committed: the incidents, and the channels given rows under the lease. */
export interface Committed {
  incidents: Incident[];
  channels: ChannelName[];
}

/** Target name → channel, for the SQL that turns an incident's targets into delivery rows. */
export type ChannelOf = (target: string) => ChannelName | undefined;

/**
 * Set-based incident transitions: one statement per batch, whatever its size, so a storm of N
 * incidents costs one commit rather than N. Every transition inserts what it owes each channel in
 * the same statement (see owedInsert).
 */
export class Transitions {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Opens the incidents of these fires. A fire whose incident exists already (another agent, an
   * earlier attempt) or whose series still has an open incident is skipped. Each is owed to the
   * targets of its route, unless held (then to nobody, or its one notice). Beyond
   * `digest.threshold` opened rows on a channel's own destination within `digest.windowMs`, rows go
   * to the digest.
   */
  async open(
    reqs: readonly OpenRequest[],
    actor: string,
    channelOf: ChannelOf,
    lease: Lease,
    digest: { threshold: number; windowMs: number },
  ): Promise<Committed> {
    if (reqs.length === 0) return { incidents: [], channels: [] };
    const pairs = reqs.flatMap((r, n) =>
      r.hold && !r.hold.notify
        ? []
        : r.plan.targets.flatMap((t) => {
            const channel = channelOf(t);
            return channel ? [{ n: n + 1, target: t, channel }] : [];
          }),
    );
    const run = (db: pg.Pool | pg.PoolClient) =>
      db.query<IncidentRow & { lease_channels: ChannelName[] | null }>(
        `WITH req AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[],
           $7::float8[], $8::text[], $9::timestamptz[], $10::bigint[], $19::text[], $20::text[], $21::text[],
           $22::text[], $23::text[], $24::text[])
           WITH ORDINALITY AS r(fingerprint, rule_id, title, category, severity, labels, value, summary, started_at,
             ack_sla_ms, targets, policy, held, held_by, hold_note, notice, n)),
       -- A series resolved by hand while its condition held fires again: the new incident says so.
       prev AS (
         SELECT DISTINCT ON (i.fingerprint) i.fingerprint, i.resolved_by, i.resolved_at FROM vigil_incidents i
         JOIN req ON req.fingerprint = i.fingerprint
         WHERE i.state = 'resolved' ORDER BY i.fingerprint, i.started_at DESC),
       ins AS (
         INSERT INTO vigil_incidents (fingerprint, rule_id, title, category, severity, labels, state, value,
           summary, started_at, ack_sla_ms, escalate_at, targets, policy, held, held_by)
         SELECT fingerprint, rule_id, title, category, severity, labels, 'firing', value, summary, started_at,
           ack_sla_ms, CASE WHEN held IS NULL THEN started_at + ack_sla_ms * interval '1 millisecond' END,
           string_to_array(targets, ','), policy, held, held_by
         FROM req ORDER BY fingerprint
         ON CONFLICT DO NOTHING RETURNING *),
       opened AS (
         SELECT ins.id, ins.rule_id, ins.value, req.n, req.notice, req.held,
           concat_ws('; ', ins.summary, req.hold_note,
             CASE WHEN p.resolved_by IS NOT NULL AND p.resolved_by <> $11
               THEN 'fired again: ' || p.resolved_by || ' resolved the last one by hand at '
                 || to_char(p.resolved_at AT TIME ZONE 'UTC', 'HH24:MI:SS') || 'Z while it still held' END) AS note
         FROM ins JOIN req ON req.fingerprint = ins.fingerprint AND req.started_at = ins.started_at
         LEFT JOIN prev p ON p.fingerprint = ins.fingerprint),
       tr AS (
         INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, value, note)
         SELECT id, 1, NULL, 'firing', 'opened', $11, value, note FROM opened),
       t AS (SELECT id, 1 AS seq, rule_id, coalesce(notice, 'opened') AS kind, n FROM opened
             WHERE held IS NULL OR notice IS NOT NULL),
       pairs AS (SELECT * FROM unnest($14::int[], $15::text[], $16::text[]) AS p(n, target, channel)),
       -- A storm is incidents that opened within the window and are still open: once it has passed
       -- (everything resolved), the next alert is news again and goes alone. Only a channel's own
       -- destination has a digest; other targets get their messages one by one.
       recent AS (
         SELECT d.channel, count(*) AS n FROM vigil_deliveries d JOIN vigil_incidents i ON i.id = d.incident_id
         WHERE d.kind = 'opened' AND d.fallback_from IS NULL AND i.state <> 'resolved'
           AND d.created_at > now() - $17 * interval '1 millisecond'
         GROUP BY d.channel),
       owed AS (
         SELECT t.id, t.seq, t.kind, p.channel, p.target,
           row_number() OVER (PARTITION BY p.channel ORDER BY t.id) AS n
         FROM t JOIN pairs p ON p.n = t.n),
       dl AS (
         INSERT INTO vigil_deliveries (incident_id, channel, target, seq, kind, state, lease_id, lease_until, in_digest)
         SELECT owed.id, owed.channel, owed.target, owed.seq, owed.kind, 'owed', $12 || '.' || owed.channel,
           now() + $13 * interval '1 millisecond',
           $18 > 0 AND owed.kind = 'opened' AND owed.target IN ('', owed.channel)
             AND coalesce((SELECT n FROM recent WHERE recent.channel = owed.channel), 0) + owed.n > $18
         FROM owed RETURNING channel)
       SELECT ins.*, (SELECT array_agg(DISTINCT channel) FROM dl) AS lease_channels FROM ins`,
        [
          reqs.map((r) => r.fingerprint),
          reqs.map((r) => r.rule.id),
          reqs.map((r) => r.rule.title),
          reqs.map((r) => r.rule.category),
          reqs.map((r) => r.rule.severity),
          reqs.map((r) => JSON.stringify(r.labels)),
          reqs.map((r) => r.value),
          reqs.map((r) => r.summary),
          reqs.map((r) => r.startedAt),
          reqs.map((r) => r.rule.ackSla),
          actor,
          lease.id,
          lease.forMs,
          pairs.map((p) => p.n),
          pairs.map((p) => p.target),
          pairs.map((p) => p.channel),
          digest.windowMs,
          digest.threshold,
          reqs.map((r) => r.plan.targets.join(',')),
          reqs.map((r) => r.plan.policy ?? null),
          reqs.map((r) => r.hold?.held ?? null),
          reqs.map((r) => r.hold?.heldBy ?? null),
          reqs.map((r) => r.hold?.note ?? null),
          reqs.map((r) => r.hold?.notify ?? null),
        ],
      );
    // Which openings are "the first N" of a storm is counted from committed rows: batches opening at
    // once (parallel workers, other agents) take turns, or each would count the same N.
    const { rows } =
      digest.threshold > 0
        ? await withTransaction(this.pool, async (c) => {
            await c.query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.vigil-open'))");
            return run(c);
          })
        : await run(this.pool);
    return { incidents: rows.map(toIncident), channels: rows[0]?.lease_channels ?? [] };
  }

  /**
   * Resolves each series' open incident that started at or before its `at`, told to everyone told of
   * it. A series with none open (another agent, an earlier attempt, a person) is skipped.
   */
  async resolve(
    reqs: readonly ResolveRequest[],
    actor: string,
    note: string,
    lease: Lease,
  ): Promise<Committed> {
    if (reqs.length === 0) return { incidents: [], channels: [] };
    const { rows } = await this.pool.query<IncidentRow & { lease_channels: ChannelName[] | null }>(
      `WITH req AS (SELECT * FROM unnest($1::text[], $2::timestamptz[]) AS r(fingerprint, at)),
       cur AS (
         SELECT i.id, i.state, req.at FROM vigil_incidents i JOIN req ON i.fingerprint = req.fingerprint
         WHERE i.state <> 'resolved' AND i.started_at <= req.at FOR UPDATE OF i),
       upd AS (
         UPDATE vigil_incidents i SET state = 'resolved', resolved_at = cur.at, resolved_by = $3, seq = i.seq + 1,
           escalate_at = NULL, ack_expires_at = NULL, updated_at = now()
         FROM cur WHERE i.id = cur.id RETURNING i.*, cur.state AS from_state),
       tr AS (
         INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, note)
         SELECT id, seq, from_state, 'resolved', 'resolved', $3, $4 FROM upd),
       t AS (SELECT id, seq, 'resolved'::text AS kind FROM upd),
       ${owedToTold('$5', '$6')}
       SELECT upd.*, (SELECT array_agg(DISTINCT channel) FROM dl) AS lease_channels FROM upd`,
      [reqs.map((r) => r.fingerprint), reqs.map((r) => r.at), actor, note, lease.id, lease.forMs],
    );
    return { incidents: rows.map(toIncident), channels: rows[0]?.lease_channels ?? [] };
  }

  /**
   * Gives an escalation time to firing incidents that have none and were never escalated: those an
   * agent of the previous version opened during a rolling upgrade (it kept escalations in a queue).
   */
  async scheduleUnscheduled(): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE vigil_incidents i SET escalate_at = i.started_at + i.ack_sla_ms * interval '1 millisecond'
       WHERE i.state = 'firing' AND i.escalate_at IS NULL AND i.held IS NULL AND i.escalation_step = 0
         AND NOT EXISTS (SELECT 1 FROM vigil_incident_transitions t WHERE t.incident_id = i.id AND t.kind = 'escalated')`,
    );
    return rowCount ?? 0;
  }
}
