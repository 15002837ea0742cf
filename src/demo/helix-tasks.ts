import pg from 'pg';
import { applyTriggers, parseColumns } from '../cli/install-triggers.js';

/**
 * HELIX's `tasks` table in the demo's schema, with the trigger `vigil install-triggers` installs:
 * every status change raises an event through the outbox, and the orchestrator's outcomes are
 * played by plain UPDATEs, as HELIX's own workers would make them.
 */
export interface HelixTasks {
  /** Runs `count` tasks that fail (status failed, an error_log with a traceback). */
  fail(count: number): Promise<void>;
  /** Runs one task that succeeds. */
  succeed(): Promise<void>;
  close(): Promise<void>;
}

/** HELIX's tasks table, as far as the trigger cares. */
export async function createTasksTable(db: pg.Pool, schema: string, table = 'tasks'): Promise<void> {
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
  await db.query(`CREATE TABLE IF NOT EXISTS ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)} (
    id bigserial PRIMARY KEY, status text NOT NULL DEFAULT 'pending', attempts int NOT NULL DEFAULT 0,
    error_log text, updated_at timestamptz NOT NULL DEFAULT now())`);
}

/** What `vigil install-triggers --table tasks` does, with the outbox in the table's schema. */
export function installTaskTrigger(url: string, schema: string, table = 'tasks'): Promise<void> {
  return applyTriggers(
    url,
    {
      schema,
      table,
      columns: parseColumns(undefined),
      event: 'task-status',
      failed: ['failed'],
      succeeded: ['done'],
      outbox: { schema, channel: 'vigil_outbox' },
      maxErrorLog: 2000,
    },
    false,
  );
}

export async function startHelixTasks(url: string, schema: string): Promise<HelixTasks> {
  const db = new pg.Pool({ connectionString: url, max: 1, application_name: 'helix demo orchestrator' });
  const table = `${pg.escapeIdentifier(schema)}.tasks`;
  try {
    await createTasksTable(db, schema);
    await installTaskTrigger(url, schema);
  } catch (err) {
    await db.end();
    throw err;
  }
  const run = async (outcome: 'failed' | 'done', errorLog: string | null) => {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO ${table} (status) VALUES ('running') RETURNING id`,
    );
    await db.query(
      `UPDATE ${table} SET status = $2, attempts = attempts + 1, error_log = $3, updated_at = now() WHERE id = $1`,
      [rows[0]?.id, outcome, errorLog],
    );
  };
  return {
    async fail(count) {
      for (let i = 0; i < count; i++)
        await run(
          'failed',
          'Traceback (most recent call last):\n  ...\nTimeoutError: agent worker did not answer',
        );
    },
    succeed: () => run('done', null),
    close: () => db.end(),
  };
}
