import type pg from 'pg';
import { withTransaction } from '../db/pool.js';
import { RetryableError } from '../errors.js';
import type { Rule } from '../rules/schema.js';
import type { Incident, IncidentState, Severity } from './types.js';

interface IncidentRow {
  id: string;
  fingerprint: string;
  rule_id: string;
  title: string;
  category: string;
  severity: string;
  labels: Record<string, string>;
  state: IncidentState;
  value: number | null;
  summary: string;
  started_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
  /** bigint: pg returns it as text. */
  ack_sla_ms: string;
  seq: number;
}

function toIncident(r: IncidentRow): Incident {
  return {
    id: r.id,
    fingerprint: r.fingerprint,
    ruleId: r.rule_id,
    title: r.title,
    category: r.category,
    severity: r.severity as Severity,
    labels: r.labels,
    state: r.state,
    value: r.value,
    summary: r.summary,
    startedAt: r.started_at,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
    resolvedAt: r.resolved_at,
    ackSlaMs: Number(r.ack_sla_ms),
    seq: r.seq,
  };
}

export interface OpenRequest {
  rule: Rule;
  fingerprint: string;
  labels: Record<string, string>;
  value: number;
  summary: string;
  startedAt: Date;
  actor: string;
}

/**
 * Incidents and their audit trail in PostgreSQL. Every transition is a guarded statement, so two
 * agents racing on the same series produce one incident and one transition.
 */
export class IncidentStore {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Opens the incident of one fire of a series (identified by fingerprint and start time), or returns
   * the one already there; `created` tells which.
   */
  async open(req: OpenRequest): Promise<{ incident: Incident; created: boolean }> {
    // One statement (the incident and its first transition commit together) because this is on the
    // alert's critical path: one round trip instead of a transaction's four.
    const { rows } = await this.pool.query<IncidentRow & { created: boolean }>(
      `WITH ins AS (
         INSERT INTO vigil_incidents (fingerprint, rule_id, title, category, severity, labels, state, value,
           summary, started_at, ack_sla_ms)
         VALUES ($1, $2, $3, $4, $5, $6, 'firing', $7, $8, $9, $10)
         ON CONFLICT DO NOTHING RETURNING *),
       tr AS (
         INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, value, note)
         SELECT id, 1, NULL, 'firing', 'opened', $11, $7, $8 FROM ins)
       SELECT ins.*, true AS created FROM ins`,
      [
        req.fingerprint,
        req.rule.id,
        req.rule.title,
        req.rule.category,
        req.rule.severity,
        req.labels,
        req.value,
        req.summary,
        req.startedAt,
        req.rule.ackSla,
        req.actor,
      ],
    );
    if (rows[0]) return { incident: toIncident(rows[0]), created: true };
    // Either this very fire was opened already (by another agent, or an earlier attempt), or an
    // older incident of the series is still open and this fire belongs to it. A separate statement,
    // so it sees a row a concurrent agent committed while our insert waited on it.
    const open = await this.pool.query<IncidentRow>(
      `SELECT * FROM vigil_incidents WHERE fingerprint = $1 AND (started_at = $2 OR state <> 'resolved')
       ORDER BY (started_at = $2) DESC, id DESC LIMIT 1`,
      [req.fingerprint, req.startedAt],
    );
    if (!open.rows[0]) {
      throw new RetryableError(
        'E_INCIDENT_RACE',
        `incident of ${req.fingerprint} changed while opening; retrying`,
      );
    }
    return { incident: toIncident(open.rows[0]), created: false };
  }

  /**
   * Resolves the series' open incident that started before `at`. When none is open (another agent,
   * or an earlier attempt of this job, got there first) returns the latest such one so its
   * notification can still be ensured.
   */
  async resolve(fingerprint: string, at: Date, actor: string, note: string): Promise<Incident | undefined> {
    return withTransaction(this.pool, async (c) => {
      const updated = await c.query<IncidentRow & { from_state: IncidentState }>(
        `UPDATE vigil_incidents i SET state = 'resolved', resolved_at = $2, seq = i.seq + 1, updated_at = now()
         FROM (SELECT id, state FROM vigil_incidents
               WHERE fingerprint = $1 AND state <> 'resolved' AND started_at <= $2 FOR UPDATE) o
         WHERE i.id = o.id RETURNING i.*, o.state AS from_state`,
        [fingerprint, at],
      );
      const row = updated.rows[0];
      if (row) {
        await c.query(
          `INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, note)
           VALUES ($1, $2, $3, 'resolved', 'resolved', $4, $5)`,
          [row.id, row.seq, row.from_state, actor, note],
        );
        return toIncident(row);
      }
      const latest = await c.query<IncidentRow>(
        `SELECT * FROM vigil_incidents WHERE fingerprint = $1 AND started_at <= $2 ORDER BY id DESC LIMIT 1`,
        [fingerprint, at],
      );
      return latest.rows[0] ? toIncident(latest.rows[0]) : undefined;
    });
  }

  /**
   * Records that an incident outlived its ack SLA unacknowledged, once: a second call (a retried
   * job) returns the escalation already recorded, so its notifications keep the same job ids.
   * Undefined when the incident is no longer firing.
   */
  async escalate(
    id: string,
    actor: string,
    note: string,
  ): Promise<{ incident: Incident; seq: number } | undefined> {
    return withTransaction(this.pool, async (c) => {
      const locked = await c.query<IncidentRow>(
        `SELECT * FROM vigil_incidents WHERE id = $1 AND state = 'firing' FOR UPDATE`,
        [id],
      );
      if (!locked.rows[0]) return undefined;
      const earlier = await c.query<{ seq: number }>(
        `SELECT seq FROM vigil_incident_transitions WHERE incident_id = $1 AND kind = 'escalated' ORDER BY seq LIMIT 1`,
        [id],
      );
      if (earlier.rows[0]) return { incident: toIncident(locked.rows[0]), seq: earlier.rows[0].seq };
      const { rows } = await c.query<IncidentRow>(
        `UPDATE vigil_incidents SET seq = seq + 1, updated_at = now() WHERE id = $1 RETURNING *`,
        [id],
      );
      const row = rows[0] as IncidentRow;
      await c.query(
        `INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, note)
         VALUES ($1, $2, 'firing', 'firing', 'escalated', $3, $4)`,
        [row.id, row.seq, actor, note],
      );
      return { incident: toIncident(row), seq: row.seq };
    });
  }

  async get(id: string): Promise<Incident | undefined> {
    const { rows } = await this.pool.query<IncidentRow>('SELECT * FROM vigil_incidents WHERE id = $1', [id]);
    return rows[0] ? toIncident(rows[0]) : undefined;
  }
}
