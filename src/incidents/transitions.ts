import type pg from 'pg';
import { withTransaction } from '../db/pool.js';
import type { ChannelName } from '../contracts/channels.js';
import type { Rule } from '../rules/schema.js';
import { toIncident, type IncidentRow } from './row.js';
import type { Incident } from '../contracts/incident.js';

/** Which channels each rule's notifications go to, and where an unknown rule's go. */
export interface Routing {
  byRule: ReadonlyMap<string, readonly ChannelName[]>;
  fallback: readonly ChannelName[];
}

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

const routingArgs = (r: Routing) => {
  const ids = [...r.byRule.keys()];
  return [ids, ids.map((id) => (r.byRule.get(id) ?? []).join(',')), r.fallback.join(',')];
};

/**
 * Owed rows for the transitions a statement made (CTE `t`: id, seq, rule_id, kind), one per routed
 * channel, leased to `$lease.channel`. Shared by every transition statement so that a transition and
 * what it owes always commit together.
 */
const owedInsert = (
  lease: string,
  leaseFor: string,
  routeIds: string,
  routeChannels: string,
  fallback: string,
  digest = 'false',
) => `
  rc AS (SELECT * FROM unnest(${routeIds}::text[], ${routeChannels}::text[]) AS rc(rule_id, channels)),
  owed AS (
    SELECT t.id, t.seq, t.kind, c.channel,
      row_number() OVER (PARTITION BY c.channel ORDER BY t.id) AS n
    FROM t LEFT JOIN rc ON rc.rule_id = t.rule_id
    CROSS JOIN LATERAL unnest(string_to_array(coalesce(rc.channels, ${fallback}), ',')) AS c(channel)),
  dl AS (
    INSERT INTO vigil_deliveries (incident_id, channel, seq, kind, state, lease_id, lease_until, in_digest)
    SELECT owed.id, owed.channel, owed.seq, owed.kind, 'owed', ${lease} || '.' || owed.channel,
      now() + ${leaseFor} * interval '1 millisecond', ${digest}
    FROM owed RETURNING channel)`;

/**
 * Set-based incident transitions: one statement per batch, whatever its size, so a storm of N
 * incidents costs one commit rather than N. Every transition inserts what it owes each channel in
 * the same statement (see owedInsert).
 */
export class Transitions {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Opens the incidents of these fires. A fire whose incident exists already (another agent, an
   * earlier attempt) or whose series still has an open incident is skipped. Beyond
   * `digest.threshold` opened rows on a channel within `digest.windowMs`, rows go to the digest.
   */
  async open(
    reqs: readonly OpenRequest[],
    actor: string,
    routing: Routing,
    lease: Lease,
    digest: { threshold: number; windowMs: number },
  ): Promise<Committed> {
    if (reqs.length === 0) return { incidents: [], channels: [] };
    const [routeIds, routeChannels, fallback] = routingArgs(routing);
    const run = (db: pg.Pool | pg.PoolClient) =>
      db.query<IncidentRow & { lease_channels: ChannelName[] | null }>(
        `WITH req AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[],
           $7::float8[], $8::text[], $9::timestamptz[], $10::bigint[])
           AS r(fingerprint, rule_id, title, category, severity, labels, value, summary, started_at, ack_sla_ms)),
       ins AS (
         INSERT INTO vigil_incidents (fingerprint, rule_id, title, category, severity, labels, state, value,
           summary, started_at, ack_sla_ms, escalate_at)
         SELECT fingerprint, rule_id, title, category, severity, labels, 'firing', value, summary, started_at,
           ack_sla_ms, started_at + ack_sla_ms * interval '1 millisecond'
         FROM req ORDER BY fingerprint
         ON CONFLICT DO NOTHING RETURNING *),
       tr AS (
         INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, value, note)
         SELECT id, 1, NULL, 'firing', 'opened', $11, value, summary FROM ins),
       t AS (SELECT id, 1 AS seq, rule_id, 'opened'::text AS kind FROM ins),
       -- A storm is incidents that opened within the window and are still open: once it has passed
       -- (everything resolved), the next alert is news again and goes alone.
       recent AS (
         SELECT d.channel, count(*) AS n FROM vigil_deliveries d JOIN vigil_incidents i ON i.id = d.incident_id
         WHERE d.kind = 'opened' AND d.fallback_from IS NULL AND i.state <> 'resolved'
           AND d.created_at > now() - $17 * interval '1 millisecond'
         GROUP BY d.channel),
       ${owedInsert('$12', '$13', '$14', '$15', '$16', '$18 > 0 AND coalesce((SELECT n FROM recent WHERE recent.channel = owed.channel), 0) + owed.n > $18')}
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
          routeIds,
          routeChannels,
          fallback,
          digest.windowMs,
          digest.threshold,
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
   * Resolves each series' open incident that started at or before its `at`. A series with none open
   * (another agent, or an earlier attempt, got there first) is skipped.
   */
  async resolve(
    reqs: readonly ResolveRequest[],
    actor: string,
    note: string,
    routing: Routing,
    lease: Lease,
  ): Promise<Committed> {
    if (reqs.length === 0) return { incidents: [], channels: [] };
    const [routeIds, routeChannels, fallback] = routingArgs(routing);
    const { rows } = await this.pool.query<IncidentRow & { lease_channels: ChannelName[] | null }>(
      `WITH req AS (SELECT * FROM unnest($1::text[], $2::timestamptz[]) AS r(fingerprint, at)),
       cur AS (
         SELECT i.id, i.state, req.at FROM vigil_incidents i JOIN req ON i.fingerprint = req.fingerprint
         WHERE i.state <> 'resolved' AND i.started_at <= req.at FOR UPDATE OF i),
       upd AS (
         UPDATE vigil_incidents i SET state = 'resolved', resolved_at = cur.at, seq = i.seq + 1,
           escalate_at = NULL, updated_at = now()
         FROM cur WHERE i.id = cur.id RETURNING i.*, cur.state AS from_state),
       tr AS (
         INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, note)
         SELECT id, seq, from_state, 'resolved', 'resolved', $3, $4 FROM upd),
       t AS (SELECT id, seq, rule_id, 'resolved'::text AS kind FROM upd),
       ${owedInsert('$5', '$6', '$7', '$8', '$9')}
       SELECT upd.*, (SELECT array_agg(DISTINCT channel) FROM dl) AS lease_channels FROM upd`,
      [
        reqs.map((r) => r.fingerprint),
        reqs.map((r) => r.at),
        actor,
        note,
        lease.id,
        lease.forMs,
        routeIds,
        routeChannels,
        fallback,
      ],
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
       WHERE i.state = 'firing' AND i.escalate_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM vigil_incident_transitions t WHERE t.incident_id = i.id AND t.kind = 'escalated')`,
    );
    return rowCount ?? 0;
  }

  /**
   * Escalates firing incidents whose ack SLA has passed (at most `limit`), once each: the escalation
   * clears `escalate_at`, and agents racing on it skip each other's rows.
   */
  async escalateDue(actor: string, routing: Routing, lease: Lease, limit = 500): Promise<Committed> {
    const [routeIds, routeChannels, fallback] = routingArgs(routing);
    const { rows } = await this.pool.query<IncidentRow & { lease_channels: ChannelName[] | null }>(
      `WITH due AS (
         SELECT i.id FROM vigil_incidents i WHERE i.escalate_at <= now() AND i.state = 'firing'
           -- An agent of the previous version may have escalated it from its own queue.
           AND NOT EXISTS (SELECT 1 FROM vigil_incident_transitions t WHERE t.incident_id = i.id AND t.kind = 'escalated')
         ORDER BY i.escalate_at LIMIT $7 FOR UPDATE OF i SKIP LOCKED),
       upd AS (
         UPDATE vigil_incidents i SET seq = i.seq + 1, escalate_at = NULL, updated_at = now()
         FROM due WHERE i.id = due.id RETURNING i.*),
       tr AS (
         INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, note)
         SELECT id, seq, 'firing', 'firing', 'escalated', $1, 'not acknowledged within its ack SLA' FROM upd),
       t AS (SELECT id, seq, rule_id, 'escalated'::text AS kind FROM upd),
       ${owedInsert('$2', '$3', '$4', '$5', '$6')}
       SELECT upd.*, (SELECT array_agg(DISTINCT channel) FROM dl) AS lease_channels FROM upd`,
      [actor, lease.id, lease.forMs, routeIds, routeChannels, fallback, limit],
    );
    return { incidents: rows.map(toIncident), channels: rows[0]?.lease_channels ?? [] };
  }
}
