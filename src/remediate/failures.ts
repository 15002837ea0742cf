import type pg from 'pg';
import type { Incident } from '../contracts/incident.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { RemediationRecord } from './record.js';
import { historyLines } from './report.js';
import type { Run, RunStore } from './runs.js';
import { toRunRow } from './run-row.js';

export interface FailureDeps {
  pool: pg.Pool;
  store: RunStore;
  record: RemediationRecord;
  metrics: Metrics;
  log: Logger;
  agentId: string;
}

/**
 * After the fact: an incident of the same series opening within `withinMs` of a run that was
 * judged a success makes that run a failure (the fix did not hold). Returns the runs so marked.
 */
export async function markRecurrences(
  d: FailureDeps,
  incident: Incident,
  entry: number,
  withinMs: number,
): Promise<Run[]> {
  const { rows } = await d.pool.query(
    `UPDATE vigil_remediation_runs r SET recurred_at = now(), recurred_incident = $2
     FROM vigil_incidents old
     WHERE r.incident_id = old.id AND old.fingerprint = $1 AND old.id <> $2 AND r.entry = $3
       AND r.state = 'succeeded' AND r.recurred_at IS NULL
       AND r.finished_at > $4::timestamptz - $5 * interval '1 millisecond'
     RETURNING r.*`,
    [incident.fingerprint, incident.id, entry, incident.startedAt, withinMs],
  );
  return rows.map(toRunRow);
}

/**
 * A remediation loop never hides a fault: after `limit` failed runs in a row on a target (failed,
 * or succeeded and then fired again), the target is switched off and `incidentId`'s people are paged
 * with the run history.
 */
export async function switchOffIfFailing(
  d: FailureDeps,
  target: string,
  limit: number,
  incidentId: string,
  runId: string,
): Promise<boolean> {
  const last = await d.store.lastActed(target, limit);
  const failed = last.filter((r) => r.state === 'failed' || r.recurredAt !== null);
  if (last.length < limit || failed.length < limit) return false;
  const action = last[0]!.action;
  const reason = `${limit} failed ${action} runs in a row`;
  if (
    !(await d.record.disable(
      target,
      reason,
      last.map((r) => r.id),
    ))
  )
    return false;
  d.metrics.inc('vigil_remediation_disabled_total', { action });
  d.log.warn({ target, action, runs: last.map((r) => r.id) }, 'remediation switched off for target');
  const note = [
    `⛔ ${action} on ${target} is switched off: ${reason}. A person must look;`,
    `switch it on again with \`vigil remediation enable ${target}\`.`,
    ...historyLines(last),
  ].join('\n');
  await d.record.tell(incidentId, runId, 'remediation', note, d.agentId);
  await d.record.escalate(incidentId, reason);
  return true;
}
