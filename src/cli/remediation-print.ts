import { zonedTime } from '../incidents/time-text.js';
import type { RunWithSteps } from '../remediate/run-list.js';
import { stepLine } from '../remediate/report.js';
import type { Run } from '../remediate/runs.js';
import { table } from './table.js';

/** A step's output as shown on a terminal: its last lines (`--json` has all of it). */
export const OUTPUT_LINES = 20;

function outputLines(output: string, indent: string): string[] {
  if (output.trim() === '') return [];
  const lines = output.replace(/\n+$/, '').split('\n');
  const cut = lines.length - OUTPUT_LINES;
  return [
    ...(cut > 0 ? [`${indent}… ${cut} earlier line${cut === 1 ? '' : 's'} (--json shows all)`] : []),
    ...lines.slice(Math.max(0, cut)).map((l) => `${indent}${l}`),
  ];
}

/** Who answered a run's approval request, in words. */
export function decisionText(r: Pick<Run, 'state' | 'decidedBy'>): string {
  if (!r.decidedBy) return '';
  return r.state === 'rejected' ? `rejected by ${r.decidedBy}` : `approved by ${r.decidedBy}`;
}

const verifiedText = (r: Run) =>
  r.verified === true ? 'yes' : r.verified === false ? 'no: the probe still failed' : '';

/** One run as `vigil incidents show` prints it: a heading, its times and answers, then each step. */
export function runStory(r: RunWithSteps, timeZone: string): string[] {
  const at = (d: Date) => zonedTime(d, timeZone);
  const dry = r.dryRun ? ' (dry run)' : '';
  const out = [`  run ${r.id}  ${r.action} on ${r.target}  ${r.state}${dry}`];
  const field = (name: string, value: string) => {
    if (value) out.push(`      ${name.padEnd(10)} ${value}`);
  };
  field('requested', `${at(r.requestedAt)}${r.attempt > 1 ? ` (attempt ${r.attempt})` : ''}`);
  if (r.state === 'awaiting-approval' && r.approvalExpiresAt) field('expires', at(r.approvalExpiresAt));
  field('decided', decisionText(r));
  if (r.notBefore && !r.finishedAt) field('not before', at(r.notBefore));
  if (r.startedAt) field('started', `${at(r.startedAt)}${r.agent ? ` by ${r.agent}` : ''}`);
  if (r.finishedAt) field('finished', at(r.finishedAt));
  field('verified', verifiedText(r));
  if (r.recurredAt) field('recurred', `${at(r.recurredAt)}: the incident fired again (a failed run)`);
  field('outcome', r.outcome);
  for (const s of r.steps) {
    out.push(`      ${stepLine(s)}`);
    out.push(...outputLines(s.output, '          '));
  }
  return out;
}

/** `vigil remediation list`: one run a line, newest first. */
export function runTable(runs: readonly Run[], timeZone: string): string {
  if (runs.length === 0) return 'no remediation runs';
  return table(
    ['RUN', 'INCIDENT', 'STATE', 'ACTION', 'TARGET', 'REQUESTED', 'DECIDED', 'OUTCOME'],
    runs.map((r) => [
      r.id,
      `#${r.incidentId}`,
      r.dryRun && r.state !== 'dry-run' ? `${r.state} (dry run)` : r.state,
      r.action,
      r.target,
      zonedTime(r.requestedAt, timeZone),
      decisionText(r),
      r.outcome,
    ]),
  );
}
