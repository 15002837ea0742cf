import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VigilConfigInput } from '../../src/config/schema.js';
import type { TestEnv } from './env.js';

/** A rules folder of the test's own (removed by `remove()`): rule files written from text. */
export function rulesDir(files: Record<string, string>): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The remediation runs of a test world, oldest first. */
export async function runsOf(env: TestEnv, incidentId?: string) {
  const { rows } = await env.db.query<{
    id: string;
    incident_id: string;
    state: string;
    outcome: string;
    attempt: number;
    target: string;
    verified: boolean | null;
    decided_by: string | null;
  }>(
    `SELECT id, incident_id, state, outcome, attempt, target, verified, decided_by
     FROM ${env.schema}.vigil_remediation_runs ${incidentId ? 'WHERE incident_id = $1' : ''} ORDER BY id`,
    incidentId ? [incidentId] : [],
  );
  return rows;
}

export async function stepsOf(env: TestEnv, runId: string) {
  const { rows } = await env.db.query<{ name: string; outcome: string; detail: string }>(
    `SELECT name, outcome, detail FROM ${env.schema}.vigil_remediation_steps WHERE run_id = $1 ORDER BY n`,
    [runId],
  );
  return rows;
}

/** Slack thread replies (remediation notes, approval requests) whose text contains `text`. */
export const replies = (env: TestEnv, text: string) =>
  env.slack.calls.filter(
    (c) =>
      c.method === 'chat.postMessage' &&
      c.status === 200 &&
      c.args.thread_ts &&
      String(c.args.text).includes(text),
  );

/** vigil.yaml `remediation` for a test: its targets, and a short lease so interruptions show quickly. */
export const remediationConfig = (
  targets: Record<string, Record<string, unknown>>,
  extra: Partial<NonNullable<VigilConfigInput['remediation']>> = {},
): Pick<VigilConfigInput, 'remediation'> => ({
  remediation: { leaseFor: '1s', ...extra, targets: targets as never },
});
