import type pg from 'pg';
import type { Incident } from '../contracts/incident.js';
import { runsWithSteps, type RunWithSteps } from '../remediate/run-list.js';
import { toIncident, type IncidentRow } from './row.js';

/** One audit row: what changed, who or what changed it, and why. */
export interface TimelineTransition {
  seq: number;
  kind: string;
  from: string | null;
  to: string;
  actor: string;
  note: string;
  value: number | null;
  at: Date;
}

/**
 * What one channel target was to be told about one transition: `sent` (when), `owed` (still to go:
 * tries so far and the last error), or `abandoned` (the service refused it, and why).
 */
export interface TimelineDelivery {
  seq: number;
  kind: string;
  channel: string;
  /** '' is the channel's default destination (slack.channel, email.to). */
  target: string;
  state: 'owed' | 'sent' | 'abandoned';
  createdAt: Date;
  deliveredAt: Date | null;
  attempts: number;
  lastError: string | null;
  inDigest: boolean;
  /** The channel this one stood in for, when it carried another's message. */
  fallbackFrom: string | null;
  note: string;
}

/** An escalation step: the audit row, and where the escalation went. */
export interface TimelineEscalation {
  seq: number;
  at: Date;
  actor: string;
  note: string;
  deliveries: TimelineDelivery[];
}

export interface Timeline {
  incident: Incident;
  transitions: TimelineTransition[];
  deliveries: TimelineDelivery[];
  escalations: TimelineEscalation[];
  /** Remediation runs its rule asked for, oldest first, each with its steps (output in full). */
  runs: RunWithSteps[];
}

interface TransitionRow {
  seq: number;
  kind: string;
  from_state: string | null;
  to_state: string;
  actor: string;
  note: string;
  value: number | null;
  at: Date;
}

interface DeliveryRow {
  seq: number;
  kind: string;
  channel: string;
  target: string;
  state: TimelineDelivery['state'];
  created_at: Date;
  delivered_at: Date | null;
  attempts: number;
  last_error: string | null;
  in_digest: boolean;
  fallback_from: string | null;
  note: string;
}

/** An incident's whole story, in order; undefined when there is no such incident. */
export async function readTimeline(pool: pg.Pool, id: string): Promise<Timeline | undefined> {
  // Ids are bigint: text that is not one would make PostgreSQL throw rather than find nothing.
  if (!/^\d{1,18}$/.test(id)) return undefined;
  const [inc, trans, dels, runs] = await Promise.all([
    pool.query<IncidentRow>('SELECT * FROM vigil_incidents WHERE id = $1', [id]),
    pool.query<TransitionRow>(
      `SELECT seq, kind, from_state, to_state, actor, note, value, at FROM vigil_incident_transitions
       WHERE incident_id = $1 ORDER BY seq, id`,
      [id],
    ),
    pool.query<DeliveryRow>(
      `SELECT seq, kind, channel, target, state, created_at, delivered_at, attempts, last_error, in_digest,
         fallback_from, note
       FROM vigil_deliveries WHERE incident_id = $1 ORDER BY seq, channel, target`,
      [id],
    ),
    runsWithSteps(pool, id),
  ]);
  const row = inc.rows[0];
  if (!row) return undefined;
  const deliveries = dels.rows.map((d): TimelineDelivery => ({
    seq: d.seq,
    kind: d.kind,
    channel: d.channel,
    target: d.target,
    state: d.state,
    createdAt: d.created_at,
    deliveredAt: d.delivered_at,
    attempts: d.attempts,
    lastError: d.last_error,
    inDigest: d.in_digest,
    fallbackFrom: d.fallback_from,
    note: d.note,
  }));
  const transitions = trans.rows.map((t): TimelineTransition => ({
    seq: t.seq,
    kind: t.kind,
    from: t.from_state,
    to: t.to_state,
    actor: t.actor,
    note: t.note,
    value: t.value,
    at: t.at,
  }));
  const escalations = transitions
    .filter((t) => t.kind === 'escalated')
    .map((t) => ({
      seq: t.seq,
      at: t.at,
      actor: t.actor,
      note: t.note,
      deliveries: deliveries.filter((d) => d.seq === t.seq),
    }));
  return { incident: toIncident(row), transitions, deliveries, escalations, runs };
}
