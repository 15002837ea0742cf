import type { TestEnv } from './env.js';

export interface RunSeed {
  state: string;
  target?: string;
  action?: string;
  entry?: number;
  outcome?: string;
  decidedBy?: string;
  verified?: boolean;
  /** Minutes ago it started and finished (ended states), or that its approval expires in (awaiting). */
  minutes?: number;
}

/**
 * A remediation run written as the runner writes one (migration 005), for tests about what people
 * see of runs and do with them rather than how runs come about.
 */
export async function insertRun(env: TestEnv, incidentId: string, seed: RunSeed): Promise<string> {
  const m = seed.minutes ?? 5;
  const ended = !['requested', 'awaiting-approval', 'approved', 'running'].includes(seed.state);
  const { rows } = await env.db.query<{ id: string }>(
    `INSERT INTO ${env.schema}.vigil_remediation_runs (incident_id, rule_id, entry, attempt, target, action,
       state, outcome, decided_by, decided_at, approval_expires_at, started_at, finished_at, agent, verified)
     VALUES ($1, 'zombie-tasks', $2, 1, $3, $4, $5, $6, $7::text, CASE WHEN $7::text IS NULL THEN NULL ELSE now() END,
       CASE WHEN $5 = 'awaiting-approval' THEN now() + $8 * interval '1 minute' END,
       CASE WHEN $9 THEN now() - $8 * interval '1 minute' END,
       CASE WHEN $9 THEN now() - $8 * interval '1 minute' + interval '3 seconds' END,
       CASE WHEN $9 THEN 'test-agent' END, $10)
     RETURNING id`,
    [
      incidentId,
      seed.entry ?? 0,
      seed.target ?? 'helix-tasks',
      seed.action ?? 'fix-zombie-tasks',
      seed.state,
      seed.outcome ?? '',
      seed.decidedBy ?? null,
      m,
      ended,
      seed.verified ?? null,
    ],
  );
  return rows[0]!.id;
}

export async function insertStep(
  env: TestEnv,
  runId: string,
  n: number,
  step: { name: string; outcome: 'ok' | 'failed' | 'skipped'; detail: string; output?: string },
): Promise<void> {
  await env.db.query(
    `INSERT INTO ${env.schema}.vigil_remediation_steps (run_id, n, name, outcome, detail, output)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [runId, n, step.name, step.outcome, step.detail, step.output ?? ''],
  );
}

/** A run's state and who decided, as stored. */
export async function runRow(env: TestEnv, runId: string) {
  const { rows } = await env.db.query<{ state: string; decided_by: string | null; finished_at: Date | null }>(
    `SELECT state, decided_by, finished_at FROM ${env.schema}.vigil_remediation_runs WHERE id = $1`,
    [runId],
  );
  return rows[0];
}
