import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createTasksTable } from '../../src/demo/helix-tasks.js';
import { createLogger } from '../../src/log.js';
import type { ActionContext, StepOutcome } from '../../src/remediate/action.js';
import { DATABASE_URL } from './env.js';
import { until } from './quiet.js';

export interface RecordedStep {
  name: string;
  outcome: StepOutcome;
  detail: string;
  output?: string;
}

/** A context for calling an action's `run` directly: its steps land in `steps`, in order. */
export function actionContext(target: string, runId: string, signal = new AbortController().signal) {
  const steps: RecordedStep[] = [];
  const ctx: ActionContext = {
    target,
    runId,
    incidentId: 'test-incident',
    signal,
    log: createLogger({ level: 'silent' }),
    step(name, outcome, detail, output) {
      steps.push({ name, outcome, detail, ...(output === undefined ? {} : { output }) });
      return Promise.resolve();
    },
  };
  return { ctx, steps };
}

export interface TaskRow {
  id: string;
  status: string;
  attempts: number;
  error_log: string | null;
  updated_at: Date;
}

/**
 * HELIX's tasks table (the demo's) in a schema of its own, and "workers": other connections
 * holding row locks in open transactions, as HELIX's workers do while they process a task.
 */
export async function createZombieWorld() {
  const schema = `zombies_${randomBytes(4).toString('hex')}`;
  const table = `${schema}.tasks`;
  const db = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const workers: pg.Client[] = [];
  await createTasksTable(db, schema);
  return {
    schema,
    table,
    db,
    /** A run's context; its connections are named after this world, so close() can find leaks. */
    context: (runId: string, signal?: AbortSignal) => actionContext(schema, runId, signal),
    /** `count` tasks last updated `ageMinutes` ago; their ids in order. */
    async add(count: number, status: string, attempts: number, errorLog: string | null, ageMinutes: number) {
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO ${table} (status, attempts, error_log, updated_at)
         SELECT $1, $2, $3, now() - $4 * interval '1 minute' FROM generate_series(1, $5) RETURNING id`,
        [status, attempts, errorLog, ageMinutes, count],
      );
      return rows.map((r) => r.id);
    },
    async rows(): Promise<Map<string, TaskRow>> {
      const { rows } = await db.query<TaskRow>(`SELECT * FROM ${table} ORDER BY id`);
      return new Map(rows.map((r) => [r.id, r]));
    },
    /** A worker holding `ids` locked: `select` takes FOR UPDATE, `update` an uncommitted UPDATE. */
    async worker(ids: string[], how: 'select' | 'update' = 'select') {
      const client = new pg.Client({ connectionString: DATABASE_URL, application_name: 'helix worker' });
      workers.push(client);
      await client.connect();
      await client.query('BEGIN');
      const sql =
        how === 'select'
          ? `SELECT id FROM ${table} WHERE id = ANY($1) FOR UPDATE`
          : `UPDATE ${table} SET attempts = attempts WHERE id = ANY($1)`;
      const { rowCount } = await client.query(sql, [ids]);
      if (rowCount !== ids.length) throw new Error(`worker locked ${rowCount} of ${ids.length} rows`);
      return { release: () => client.query('ROLLBACK') };
    },
    /** Another session holding the whole table (as a migration would) until released. */
    async tableLock() {
      const client = new pg.Client({ connectionString: DATABASE_URL, application_name: 'helix migration' });
      workers.push(client);
      await client.connect();
      await client.query('BEGIN');
      await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      return { release: () => client.query('ROLLBACK') };
    },
    async close() {
      await Promise.allSettled(workers.map((w) => w.end()));
      // A closed socket leaves the server's list a moment later.
      const leaked = async () =>
        (
          await db.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1`, [
            `vigil remediate ${schema}`,
          ])
        ).rowCount;
      await until('the action to close its connection', async () => (await leaked()) === 0, 3000).finally(
        async () => {
          await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await db.end();
        },
      );
    },
  };
}

export type ZombieWorld = Awaited<ReturnType<typeof createZombieWorld>>;
