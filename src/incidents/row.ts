import type { Hold, IncidentState, Incident, Severity } from '../contracts/incident.js';

/** A `vigil_incidents` row as pg returns it. */
export interface IncidentRow {
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
  targets: string[];
  policy: string | null;
  escalation_step: number;
  ack_expires_at: Date | null;
  resolved_by: string | null;
  held: Hold | null;
  held_by: string | null;
}

export function toIncident(r: IncidentRow): Incident {
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
    targets: r.targets ?? [],
    policy: r.policy ?? null,
    escalationStep: r.escalation_step ?? 0,
    ackExpiresAt: r.ack_expires_at ?? null,
    resolvedBy: r.resolved_by ?? null,
    held: r.held ?? null,
    heldBy: r.held_by ?? null,
  };
}
