import type pg from 'pg';
import { toRunRow } from './run-row.js';
import type { Run, RunState, Step } from './runs.js';

/** A run with the steps it recorded: what `vigil incidents show` and the API show of it. */
export type RunWithSteps = Run & { steps: Step[] };

export interface RunFilter {
  incidentId?: string | undefined;
  state?: RunState | undefined;
  limit: number;
}

/** Recent runs, newest first (`vigil remediation list`). */
export async function listRuns(pool: pg.Pool, f: RunFilter): Promise<Run[]> {
  const { rows } = await pool.query(
    `SELECT * FROM vigil_remediation_runs
     WHERE ($1::bigint IS NULL OR incident_id = $1) AND ($2::text IS NULL OR state = $2)
     ORDER BY id DESC LIMIT $3`,
    [f.incidentId ?? null, f.state ?? null, f.limit],
  );
  return rows.map(toRunRow);
}

/** An incident's runs, oldest first, each with its steps in order. */
export async function runsWithSteps(pool: pg.Pool, incidentId: string): Promise<RunWithSteps[]> {
  const [runs, steps] = await Promise.all([
    pool.query('SELECT * FROM vigil_remediation_runs WHERE incident_id = $1 ORDER BY id', [incidentId]),
    pool.query<Step & { run_id: string }>(
      `SELECT s.run_id::text, s.n, s.name, s.outcome, s.detail, s.output, s.at
       FROM vigil_remediation_steps s JOIN vigil_remediation_runs r ON r.id = s.run_id
       WHERE r.incident_id = $1 ORDER BY s.run_id, s.n`,
      [incidentId],
    ),
  ]);
  return runs.rows.map(toRunRow).map((run) => ({
    ...run,
    steps: steps.rows.filter((s) => s.run_id === run.id).map(({ run_id: _, ...s }) => s),
  }));
}
