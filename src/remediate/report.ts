import type { Run, Step } from './runs.js';

const marks: Record<Step['outcome'], string> = { ok: '✓', failed: '✗', skipped: '–' };

/** One step in one line: "✓ find-pids: 1 process (4242)". */
export const stepLine = (s: Pick<Step, 'outcome' | 'name' | 'detail'>) =>
  `${marks[s.outcome]} ${s.name}: ${s.detail}`;

/** A run's steps, one line each, for the thread (`vigil incidents show` shows them all, with output). */
export function stepLines(steps: readonly Step[], max = 12): string[] {
  const shown = steps.slice(0, max).map(stepLine);
  if (steps.length > max) shown.push(`… ${steps.length - max} more steps (vigil incidents show)`);
  return shown;
}

/** What a run is, in a few words: "restart-service on helix-api (run 12)". */
export const runName = (r: Pick<Run, 'id' | 'action' | 'target'>) =>
  `${r.action} on ${r.target} (run ${r.id})`;

/** A target's run history, for the page sent when it is switched off. */
export function historyLines(runs: readonly Run[]): string[] {
  return runs.map((r) => {
    const when = (r.finishedAt ?? r.requestedAt).toISOString();
    const how = r.recurredAt ? `${r.state}, then fired again` : r.state;
    return `run ${r.id} on incident #${r.incidentId} at ${when}: ${how}: ${r.outcome}`;
  });
}
