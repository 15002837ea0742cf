import type { Run, RunState } from './runs.js';

/** A `vigil_remediation_runs` row as a Run. */
export const toRunRow = (r: Record<string, unknown>): Run => ({
  id: String(r.id),
  incidentId: String(r.incident_id),
  ruleId: r.rule_id as string,
  entry: r.entry as number,
  attempt: r.attempt as number,
  target: r.target as string,
  action: r.action as string,
  state: r.state as RunState,
  dryRun: r.dry_run as boolean,
  outcome: r.outcome as string,
  requestedAt: r.requested_at as Date,
  notBefore: r.not_before as Date | null,
  approvalExpiresAt: r.approval_expires_at as Date | null,
  decidedBy: r.decided_by as string | null,
  startedAt: r.started_at as Date | null,
  finishedAt: r.finished_at as Date | null,
  agent: r.agent as string | null,
  verified: r.verified as boolean | null,
  recurredAt: r.recurred_at as Date | null,
});
