import type { Queue } from 'bullmq';
import type { Incident } from '../contracts/incident.js';
import type { QueuePayloads } from '../contracts/queues.js';
import type { Rule } from '../rules/schema.js';
import { markRecurrences, switchOffIfFailing, type FailureDeps } from './failures.js';
import { queueRun } from './runner.js';
import type { Run, RunRequest } from './runs.js';
import type { RemediationConfig, RuleRemediation } from './schema.js';

export interface RequestDeps extends FailureDeps {
  rules(): readonly Rule[];
  config: RemediationConfig;
  queue: Queue<QueuePayloads['remediate']>;
}

/** A label's value quoted for a record: bounded, one line (it is only ever text, never a name or a command). */
const quoted = (v: string) => JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);

/**
 * The target an entry names, or the one the incident's label picks among the entry's `among` (and
 * configured); otherwise why there is none. A label can only choose, never name something new.
 */
export function targetOf(
  entry: RuleRemediation,
  labels: Readonly<Record<string, string>>,
  config: RemediationConfig,
): { target: string; action: string } | { refused: string; target: string } {
  let target: string;
  if (entry.target !== undefined) target = entry.target;
  else {
    const { label, among } = entry.targetFromLabel!;
    const value = labels[label];
    if (value === undefined)
      return { refused: `the incident has no label "${label}" to pick a target`, target: '' };
    if (!among.includes(value))
      return {
        refused: `label ${label}=${quoted(value)} names no target among ${among.join(', ')}`,
        target: '',
      };
    target = value;
  }
  const spec = Object.hasOwn(config.targets, target) ? config.targets[target] : undefined;
  if (!spec) return { refused: `target "${target}" is not configured (remediation.targets)`, target };
  return { target, action: spec.action };
}

/**
 * Records a run for every `remediate` entry of these incidents' rules (once per incident and
 * entry, whoever asks first), queues them, and judges earlier runs of the same series after the
 * fact. Called when incidents open, and by the sweeper for any it missed.
 */
export async function requestRuns(d: RequestDeps, incidents: readonly Incident[]): Promise<Run[]> {
  const rules = new Map(d.rules().map((r) => [r.id, r]));
  const reqs: RunRequest[] = [];
  for (const incident of incidents) {
    const entries = rules.get(incident.ruleId)?.remediate ?? [];
    for (const [k, entry] of entries.entries()) {
      for (const before of await markRecurrences(d, incident, k, entry.recurrence.within)) {
        d.log.warn(
          { run: before.id, incident: incident.id },
          'a remediated incident fired again: run counted as failed',
        );
        await switchOffIfFailing(d, before.target, entry.recurrence.disableAfter, incident.id, before.id);
      }
      const t = targetOf(entry, incident.labels, d.config);
      reqs.push({
        incidentId: incident.id,
        ruleId: incident.ruleId,
        entry: k,
        attempt: 1,
        target: t.target,
        action: 'action' in t ? t.action : '',
        state: 'action' in t ? 'requested' : 'refused',
        outcome: 'refused' in t ? t.refused : '',
      });
    }
  }
  const runs = await d.store.request(reqs);
  for (const run of runs) {
    if (run.state === 'requested') await queueRun(d.queue, run.id, 'requested');
    else
      await d.record.tell(
        run.incidentId,
        run.id,
        'remediation',
        `⛔ remediation refused: ${run.outcome}`,
        d.agentId,
      );
  }
  return runs;
}

/** The guards decide again about an interrupted run: a new attempt, requested like the first. */
export async function requestAgain(d: RequestDeps, run: Run): Promise<Run | undefined> {
  const [next] = await d.store.request([
    { ...run, attempt: run.attempt + 1, state: 'requested', outcome: `after run ${run.id} was interrupted` },
  ]);
  if (next) await queueRun(d.queue, next.id, 'requested');
  return next;
}
