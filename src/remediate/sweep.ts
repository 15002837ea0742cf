import type pg from 'pg';
import { errorMessage } from '../errors.js';
import type { Incident } from '../contracts/incident.js';
import { toIncident, type IncidentRow } from '../incidents/row.js';
import { requestAgain, requestRuns, type RequestDeps } from './request.js';
import { queueRun } from './runner.js';
import { runName } from './report.js';
import { toRunRow } from './run-row.js';

/**
 * The sweeper's remediation pass (once per cluster per sweep): what a lost job or a dead agent
 * would otherwise leave undone. A run whose agent stopped renewing its lease is recorded as
 * interrupted and the guards decide again about a new attempt; an approval nobody gave expires;
 * a run left waiting with no job is queued again; an incident whose runs were never requested
 * (its agent died between opening it and asking) gets them.
 */
export class RemediationSweep {
  readonly name = 'remediation';

  constructor(private readonly d: RequestDeps & { pool: pg.Pool; leaseForMs: number }) {}

  async tick(): Promise<void> {
    const { d } = this;
    const { rows: interrupted } = await d.pool.query(
      `UPDATE vigil_remediation_runs SET state = 'interrupted', finished_at = now(),
         outcome = 'interrupted: agent ' || coalesce(agent, '?') || ' stopped renewing its lease mid-run'
       WHERE state = 'running' AND lease_until < now() RETURNING *`,
    );
    for (const run of interrupted.map(toRunRow)) {
      d.metrics.inc('vigil_remediation_runs_total', { action: run.action, state: 'interrupted' });
      d.log.warn({ run: run.id, target: run.target }, 'remediation run interrupted');
      const steps = await d.store.steps(run.id);
      const last = steps.at(-1);
      const note = `⚠️ ${runName(run)} ${run.outcome}; last step: ${last ? `${last.name} (${last.outcome}): ${last.detail}` : 'none'}. Not re-run blindly: the guards decide again.`;
      await this.tell(run.incidentId, run.id, note);
    }
    const { rows: expired } = await d.pool.query(
      `UPDATE vigil_remediation_runs SET state = 'expired', finished_at = now(), outcome = 'nobody approved it in time: not run'
       WHERE state = 'awaiting-approval' AND approval_expires_at < now() RETURNING *`,
    );
    for (const run of expired.map(toRunRow)) {
      d.metrics.inc('vigil_remediation_runs_total', { action: run.action, state: 'expired' });
      await this.tell(run.incidentId, run.id, `⌛ ${runName(run)}: ${run.outcome}`);
    }
    // Interrupted runs of incidents still open, with no later attempt: a new one, judged afresh.
    const { rows: again } = await d.pool.query(
      `SELECT r.* FROM vigil_remediation_runs r JOIN vigil_incidents i ON i.id = r.incident_id
       WHERE r.state = 'interrupted' AND i.state <> 'resolved' AND NOT EXISTS (
         SELECT 1 FROM vigil_remediation_runs n WHERE n.incident_id = r.incident_id AND n.entry = r.entry
           AND n.attempt > r.attempt)`,
    );
    for (const run of again.map(toRunRow)) await requestAgain(d, run);
    const { rows: waiting } = await d.pool.query<{ id: string }>(
      `SELECT id FROM vigil_remediation_runs WHERE state IN ('requested', 'approved')
         AND coalesce(not_before, decided_at, requested_at) < now() - $1 * interval '1 millisecond'`,
      [d.leaseForMs],
    );
    const slot = Math.floor(Date.now() / d.leaseForMs);
    for (const { id } of waiting) await queueRun(d.queue, id, `sweep-${slot}`);
    await this.requestMissed();
  }

  /** One note failing (after its retries) must not cost the other rows of this pass theirs. */
  private async tell(incidentId: string, runId: string, note: string): Promise<void> {
    await this.d.record
      .tell(incidentId, runId, 'remediation', note, this.d.agentId)
      .catch((err: unknown) =>
        this.d.log.error({ run: runId, err: errorMessage(err) }, 'remediation note not recorded'),
      );
  }

  private async requestMissed(): Promise<void> {
    const ruleIds = this.d.rules().flatMap((r) => (r.remediate.length ? [r.id] : []));
    if (ruleIds.length === 0) return;
    const { rows } = await this.d.pool.query<IncidentRow>(
      `SELECT i.* FROM vigil_incidents i WHERE i.state <> 'resolved' AND i.rule_id = ANY($1::text[])
         AND i.started_at > now() - interval '1 day'
         AND NOT EXISTS (SELECT 1 FROM vigil_remediation_runs r WHERE r.incident_id = i.id)
       ORDER BY i.id LIMIT 100`,
      [ruleIds],
    );
    const incidents: Incident[] = rows.map(toIncident);
    if (incidents.length) await requestRuns(this.d, incidents);
  }
}
