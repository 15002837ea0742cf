import pg from 'pg';
import { raiseDeclarations, raiseStatements, type OutboxPlace } from './outbox-sql.js';

const { escapeIdentifier: ident, escapeLiteral: literal } = pg;

/** Statuses that count as a task that worked, unless `--succeeded` says otherwise. */
export const defaultSucceeded = ['done', 'succeeded', 'success', 'completed'] as const;

export const taskColumns = ['id', 'status', 'attempts', 'error_log', 'updated_at'] as const;
export type TaskColumn = (typeof taskColumns)[number];
/** The table's column for each part of a task; one it does not have is left out (status excepted). */
export type TaskColumns = Partial<Record<TaskColumn, string>> & { status: string };

export interface TriggerSpec {
  /** The watched table. */
  schema: string;
  table: string;
  columns: Readonly<TaskColumns>;
  /** The events' name. */
  event: string;
  /** Statuses that make `ok` false. */
  failed: readonly string[];
  /**
   * Statuses that make `ok` true. Any other (pending, running) carries no `ok`: a task under way
   * neither breaks nor heals a run of failures.
   */
  succeeded: readonly string[];
  /** Where `vigil_raise` lives. */
  outbox: OutboxPlace;
  /** Longest error_log an event carries, in characters. */
  maxErrorLog: number;
}

const names = (t: { schema: string; table: string }) => {
  const target = `${ident(t.schema)}.${ident(t.table)}`;
  // One function per table, beside it; PostgreSQL cuts identifiers at 63 bytes.
  const fn = `${ident(t.schema)}.${ident(`vigil_raise_${t.table}`.slice(0, 63))}`;
  return { target, fn, onInsert: ident('vigil_status_insert'), onUpdate: ident('vigil_status_update') };
};

/**
 * The trigger function raises one event per status change: labels {table, status}, ok false for a
 * failed status, true for a succeeded one, none for the others, data {task_id, attempts, error_log (cut), updated_at, previous_status}.
 * Only configured names and values reach this text (quoted); row values travel as row values.
 */
export function installTriggerSql(t: TriggerSpec): string {
  const { target, fn, onInsert, onUpdate } = names(t);
  const col = (c: TaskColumn) => {
    const name = t.columns[c];
    return name === undefined ? 'NULL' : `NEW.${ident(name)}`;
  };
  const status = `${col('status')}::text`;
  const list = (statuses: readonly string[]) =>
    `ARRAY[${statuses.map((s) => literal(s)).join(', ')}]::text[]`;
  const statusName = ident(t.columns.status);
  return `
CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql
-- Writers need no rights on the outbox; the fixed search_path keeps a writer's own objects out of it.
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $vigil$
DECLARE
${raiseDeclarations(t.outbox)}
BEGIN
${raiseStatements(
  t.outbox,
  {
    name: literal(t.event),
    labels: `jsonb_strip_nulls(jsonb_build_object('table', TG_TABLE_NAME::text, 'status', ${status}))`,
    ok: `CASE WHEN ${status} = ANY (${list(t.failed)}) THEN false
         WHEN ${status} = ANY (${list(t.succeeded)}) THEN true END`,
    value: 'NULL',
    data: `jsonb_build_object(
      'task_id', ${col('id')},
      'attempts', ${col('attempts')},
      'error_log', left(${col('error_log')}::text, ${t.maxErrorLog}),
      'updated_at', ${col('updated_at')},
      'previous_status', CASE WHEN TG_OP = 'UPDATE' THEN OLD.${statusName}::text END
    )`,
  },
  '',
)}
  RETURN NULL;
END
$vigil$;
DROP TRIGGER IF EXISTS ${onInsert} ON ${target};
DROP TRIGGER IF EXISTS ${onUpdate} ON ${target};
CREATE TRIGGER ${onInsert} AFTER INSERT ON ${target}
  FOR EACH ROW EXECUTE FUNCTION ${fn}();
CREATE TRIGGER ${onUpdate} AFTER UPDATE ON ${target}
  FOR EACH ROW WHEN (OLD.${statusName} IS DISTINCT FROM NEW.${statusName})
  EXECUTE FUNCTION ${fn}();`;
}

export function uninstallTriggerSql(t: Pick<TriggerSpec, 'schema' | 'table'>): string {
  const { target, fn, onInsert, onUpdate } = names(t);
  return `
DROP TRIGGER IF EXISTS ${onInsert} ON ${target};
DROP TRIGGER IF EXISTS ${onUpdate} ON ${target};
DROP FUNCTION IF EXISTS ${fn}();`;
}
