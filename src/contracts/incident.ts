export const incidentStates = ['firing', 'acknowledged', 'resolved'] as const;
export type IncidentState = (typeof incidentStates)[number];

export type Severity = 'critical' | 'high' | 'warning' | 'info';

/** An incident as stored in PostgreSQL (`vigil_incidents`), as every consumer sees it. */
export interface Incident {
  id: string;
  fingerprint: string;
  ruleId: string;
  title: string;
  category: string;
  severity: Severity;
  labels: Record<string, string>;
  state: IncidentState;
  /** The observed value that fired the rule (e.g. 3 consecutive failures), last one seen. */
  value: number | null;
  summary: string;
  startedAt: Date;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  resolvedAt: Date | null;
  ackSlaMs: number;
  /** Bumped on every transition; notifications are keyed by it so each is sent once. */
  seq: number;
}
