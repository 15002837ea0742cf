import type pg from 'pg';
import type { VigilConfig } from '../config/schema.js';
import { formatDuration } from '../config/duration.js';
import type { ChannelName } from '../contracts/channels.js';
import { withTransaction } from '../db/pool.js';
import { toIncident, type IncidentRow } from './row.js';
import { owedToTold } from './owed.js';
import type { ChannelOf, Committed, Lease } from './transitions.js';

type Policies = VigilConfig['escalation']['policies'];

interface Due {
  id: string;
  policy: string | null;
  escalation_step: number;
  targets: string[];
  /** bigint: text from pg. */
  ack_sla_ms: string;
  /** Paged early, and why (remediation gave up): said instead of "not acknowledged". */
  escalate_why: string | null;
}

/** One escalation step of one incident: who it pages, and when the next step is due. */
export interface Step {
  step: number;
  targets: string[];
  nextInMs: number | null;
  note: string;
}

/**
 * The step after `done` steps of a policy: its steps run in order, `repeat` more times, then stop.
 * The first step waits the rule's ack SLA unless it says otherwise. Without a policy (or with one no
 * longer configured) there is one step, to the incident's own targets.
 */
export function nextStep(policies: Policies, incident: Due, fallback: readonly string[] = []): Step {
  const step = incident.escalation_step + 1;
  const policy = incident.policy === null ? undefined : policies[incident.policy];
  if (!policy) {
    const missing = incident.policy === null ? '' : ` (policy "${incident.policy}" is not configured)`;
    return {
      step,
      // An incident opened before targets existed has none: it pages the configured channels.
      targets: incident.targets.length ? incident.targets : [...fallback],
      nextInMs: null,
      note: `not acknowledged within its ack SLA${missing}`,
    };
  }
  const k = policy.steps.length;
  const total = k * (policy.repeat + 1);
  const spec = policy.steps[(step - 1) % k]!;
  const following = policy.steps[step % k]!;
  const nextInMs = step >= total ? null : (following.after ?? Number(incident.ack_sla_ms));
  const then = nextInMs === null ? 'last step' : `next in ${formatDuration(nextInMs)}`;
  return {
    step,
    targets: spec.to,
    nextInMs,
    note: `not acknowledged: step ${step} of ${total} (policy "${incident.policy}") to ${spec.to.join(', ')}; ${then}`,
  };
}

/**
 * Escalations and lapsed acknowledgements, found by the sweeper. Each takes its incidents with
 * `FOR UPDATE SKIP LOCKED`, so agents sweeping at once never take the same step twice.
 */
export class Escalations {
  constructor(
    private readonly pool: pg.Pool,
    private readonly policies: () => Policies,
    private readonly channelOf: ChannelOf,
    /** Targets of an incident that names none (opened by an agent of the previous version). */
    private readonly fallback: readonly string[] = [],
  ) {}

  /**
   * Takes the next step of firing, unheld incidents whose step is due (at most `limit`): owed to the
   * step's targets (a fresh message that may mention someone) and to everyone told so far (a reply
   * in their thread).
   */
  async escalateDue(actor: string, lease: Lease, limit = 500): Promise<Committed> {
    const rows = await withTransaction(this.pool, async (c) => {
      const { rows: due } = await c.query<Due>(
        `SELECT i.id, i.policy, i.escalation_step, i.targets, i.ack_sla_ms, i.escalate_why FROM vigil_incidents i
         WHERE i.escalate_at <= now() AND i.state = 'firing' AND i.held IS NULL
           -- An agent of the previous version may have escalated it from its own queue (an escalation
           -- with no step). Escalation that started over (unacknowledged, ack expired) counts afresh.
           AND (i.escalation_step > 0 OR NOT EXISTS (
             SELECT 1 FROM vigil_incident_transitions t WHERE t.incident_id = i.id AND t.kind = 'escalated'
               AND t.seq > coalesce((SELECT max(u.seq) FROM vigil_incident_transitions u WHERE u.incident_id = i.id
                 AND u.kind IN ('unacknowledged', 'ack-expired')), 0)))
         ORDER BY i.escalate_at LIMIT $1 FOR UPDATE OF i SKIP LOCKED`,
        [limit],
      );
      if (due.length === 0) return [];
      const steps = due.map((d) => {
        const step = nextStep(this.policies(), d, this.fallback);
        if (!d.escalate_why) return step;
        // Paged early: its reason replaces "not acknowledged"; the policy's step and targets stay.
        const rest = step.note.replace(/^not acknowledged(: | within its ack SLA)/, '').trim();
        return { ...step, note: rest ? `${d.escalate_why} — ${rest}` : d.escalate_why };
      });
      const pairs = due.flatMap((d, k) =>
        steps[k]!.targets.flatMap((target) => {
          const channel = this.channelOf(target);
          return channel ? [{ id: d.id, target, channel }] : [];
        }),
      );
      const res = await c.query<IncidentRow & { lease_channels: ChannelName[] | null }>(
        `WITH s AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::float8[], $4::text[]) AS s(id, step, next_ms, note)),
         upd AS (
           UPDATE vigil_incidents i SET escalation_step = s.step, seq = i.seq + 1, updated_at = now(), escalate_why = NULL,
             escalate_at = CASE WHEN s.next_ms IS NULL THEN NULL ELSE now() + s.next_ms * interval '1 millisecond' END
           FROM s WHERE i.id = s.id RETURNING i.*, s.note),
         tr AS (
           INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, note)
           SELECT id, seq, 'firing', 'firing', 'escalated', $5, note FROM upd),
         pairs AS (SELECT * FROM unnest($8::bigint[], $9::text[], $10::text[]) AS p(id, target, channel)),
         dest AS (
           SELECT id, channel, target, bool_or(page) AS page FROM (
             SELECT id, channel, target, true AS page FROM pairs
             UNION ALL SELECT d.incident_id, d.channel, d.target, false FROM vigil_deliveries d
               JOIN upd ON d.incident_id = upd.id WHERE d.fallback_from IS NULL) x
           GROUP BY id, channel, target),
         dl AS (
           INSERT INTO vigil_deliveries (incident_id, channel, target, seq, kind, state, lease_id, lease_until, page)
           SELECT upd.id, dest.channel, dest.target, upd.seq, 'escalated', 'owed', $6 || '.' || dest.channel,
             now() + $7 * interval '1 millisecond', dest.page
           FROM upd JOIN dest ON dest.id = upd.id ON CONFLICT DO NOTHING RETURNING channel)
         SELECT upd.*, (SELECT array_agg(DISTINCT channel) FROM dl) AS lease_channels FROM upd`,
        [
          due.map((d) => d.id),
          steps.map((s) => s.step),
          steps.map((s) => s.nextInMs),
          steps.map((s) => s.note),
          actor,
          lease.id,
          lease.forMs,
          pairs.map((p) => p.id),
          pairs.map((p) => p.target),
          pairs.map((p) => p.channel),
        ],
      );
      return res.rows;
    });
    return { incidents: rows.map(toIncident), channels: rows[0]?.lease_channels ?? [] };
  }

  /**
   * Acknowledged incidents still open when their acknowledgement lapses fire again: everyone told
   * hears it, and escalation starts over from its first step.
   */
  async expireAcks(actor: string, lease: Lease, limit = 500): Promise<Committed> {
    const { rows } = await this.pool.query<IncidentRow & { lease_channels: ChannelName[] | null }>(
      `WITH cur AS (
         SELECT id, acknowledged_by, acknowledged_at FROM vigil_incidents
         -- A held (silenced) incident says nothing: its acknowledgement lapses once it is released.
         WHERE state = 'acknowledged' AND ack_expires_at <= now() AND held IS NULL
         ORDER BY ack_expires_at LIMIT $3 FOR UPDATE SKIP LOCKED),
       upd AS (
         UPDATE vigil_incidents i SET state = 'firing', acknowledged_at = NULL, acknowledged_by = NULL,
           ack_expires_at = NULL, escalation_step = 0, seq = i.seq + 1, updated_at = now(),
           escalate_at = CASE WHEN i.held IS NULL THEN now() + i.ack_sla_ms * interval '1 millisecond' END
         FROM cur WHERE i.id = cur.id
         RETURNING i.*, cur.acknowledged_by AS was_by, now() - cur.acknowledged_at AS held_for),
       tr AS (
         INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, note)
         SELECT id, seq, 'acknowledged', 'firing', 'ack-expired', $4,
           'acknowledged by ' || coalesce(was_by, '?') || '; still firing ' || justify_interval(date_trunc('second', held_for)) || ' later'
         FROM upd),
       t AS (SELECT id, seq, 'ack-expired'::text AS kind FROM upd),
       ${owedToTold('$1', '$2')}
       SELECT upd.*, (SELECT array_agg(DISTINCT channel) FROM dl) AS lease_channels FROM upd`,
      [lease.id, lease.forMs, limit, actor],
    );
    return { incidents: rows.map(toIncident), channels: rows[0]?.lease_channels ?? [] };
  }
}
