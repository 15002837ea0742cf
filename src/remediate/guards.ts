import { formatDuration } from '../config/duration.js';
import type { Incident } from '../contracts/incident.js';
import type { Run } from './runs.js';
import type { RuleRemediation } from './schema.js';

/** What the guards decide about a run that may start now. */
export type Verdict =
  | { go: 'run' }
  | { go: 'dry-run' }
  | { go: 'ask'; expiresAt: Date }
  /** Not now: its target cools down after the last run. */
  | { go: 'wait'; until: Date; why: string }
  /** Not at all, and nothing to tell beyond the record (the incident ended, someone has it). */
  | { go: 'skip'; why: string }
  /** Not at all, and a person must know: the budget is spent, the target is switched off. */
  | { go: 'refuse'; why: string; page: boolean };

export interface GuardInput {
  run: Run;
  incident: Incident;
  entry: RuleRemediation;
  /** The target switched off after failed runs, if it is. */
  disabled: { since: Date; reason: string } | undefined;
  /** Runs of the target that started within max(budget window, cooldown), newest first, this one excluded. */
  recent: readonly Run[];
  globalDryRun: boolean;
  now: Date;
}

/**
 * The runner's guards, in order, as one pure function: an ended or held incident, a switched-off
 * target, dry-run, the budget, the cooldown, approval. A run approved by a person is not asked again.
 */
export function judge(g: GuardInput): Verdict {
  const { incident: i, entry, run, now } = g;
  if (i.state === 'resolved') return { go: 'skip', why: 'the incident resolved before it ran' };
  if (!entry.evenWhenHeld) {
    // A person approved this run: acknowledging first (as the paged person does) is no reason to skip it.
    if (i.state === 'acknowledged' && run.state !== 'approved')
      return { go: 'skip', why: `acknowledged by ${i.acknowledgedBy ?? 'someone'}: left to them` };
    if (i.held) return { go: 'skip', why: `the incident is ${i.held}: remediation does not run while held` };
  }
  if (g.disabled)
    return {
      go: 'refuse',
      why: `${run.action} on ${run.target} is switched off since ${g.disabled.since.toISOString()}: ${g.disabled.reason}`,
      page: false,
    };
  // A dry run shows the plan whatever the budget: it spends nothing.
  if (g.globalDryRun || entry.dryRun) return { go: 'dry-run' };
  // What counts is what acted: a run its action refused (SSH not listening) touched nothing, and
  // one cut short did not finish.
  const acted = g.recent.filter((r) => r.state !== 'refused');
  const { runs, within } = entry.budget;
  const spent = acted.filter((r) => r.startedAt && now.getTime() - r.startedAt.getTime() < within);
  if (spent.length >= runs)
    return {
      go: 'refuse',
      why: `${spent.length} ${run.action} runs on ${run.target} in ${formatDuration(within)}, giving up: a person must look`,
      page: true,
    };
  const last = acted.find((r) => r.state !== 'interrupted' && (r.finishedAt ?? r.startedAt));
  const lastAt = last ? (last.finishedAt ?? last.startedAt)!.getTime() : undefined;
  if (lastAt !== undefined && now.getTime() - lastAt < entry.cooldown)
    return {
      go: 'wait',
      until: new Date(lastAt + entry.cooldown),
      why: `cooling down: run ${last!.id} on ${run.target} ended ${formatDuration(Math.round((now.getTime() - lastAt) / 1000) * 1000)} ago (cooldown ${formatDuration(entry.cooldown)})`,
    };
  if (entry.approval && run.state !== 'approved')
    return { go: 'ask', expiresAt: new Date(now.getTime() + entry.approval.expiresAfter) };
  return { go: 'run' };
}
