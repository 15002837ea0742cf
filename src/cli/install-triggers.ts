import pg from 'pg';
import { loadConfig } from '../config/load.js';
import type { VigilConfig } from '../config/schema.js';
import { DependencyError, VigilError, errorMessage } from '../errors.js';
import { redactUrl } from '../log.js';
import { outboxSetupSql, setupLockSql, type OutboxPlace } from '../sources/postgres/outbox-sql.js';
import {
  installTriggerSql,
  taskColumns,
  uninstallTriggerSql,
  type TaskColumns,
  type TriggerSpec,
} from '../sources/postgres/trigger-sql.js';

export interface InstallTriggersOptions {
  config?: string;
  table: string;
  schema: string;
  columns?: string;
  event: string;
  failed: string;
  succeeded: string;
  source?: string;
  uninstall?: boolean;
  dryRun?: boolean;
}

const MAX_ERROR_LOG = 2000;

const usage = (message: string) => new VigilError('E_USAGE', message);

/** `id=task_id,status=state,attempts=` → the mapping; an empty right side leaves that part out. */
export function parseColumns(text: string | undefined): TaskColumns {
  const columns: Partial<Record<string, string>> = Object.fromEntries(taskColumns.map((c) => [c, c]));
  for (const pair of (text ?? '').split(',').filter((p) => p.trim())) {
    const [key = '', value = ''] = pair.split('=').map((s) => s.trim());
    if (!(taskColumns as readonly string[]).includes(key))
      throw usage(`--columns: unknown part "${key}" (known: ${taskColumns.join(', ')})`);
    if (value) columns[key] = value;
    else if (key === 'status') throw usage('--columns: status needs a column: the trigger watches it');
    else delete columns[key];
  }
  return columns as TaskColumns;
}

/** The pg-outbox entry whose database and outbox the trigger feeds (or the defaults without one). */
function outboxOf(config: VigilConfig, name: string | undefined): { url: string; place: OutboxPlace } {
  const outboxes = config.sources.flatMap((s) => (s.kind === 'pg-outbox' ? [s] : []));
  const chosen = name === undefined ? outboxes : outboxes.filter((s) => s.name === name);
  if (name !== undefined && chosen.length === 0)
    throw usage(`--source: no pg-outbox source is named "${name}"`);
  if (chosen.length > 1)
    throw usage(
      `several pg-outbox sources (${outboxes.map((s) => s.name).join(', ')}): choose one with --source`,
    );
  const s = chosen[0];
  return {
    url: s?.url ?? config.database.url,
    place: { schema: s?.schema ?? config.database.schema, channel: s?.channel ?? 'vigil_outbox' },
  };
}

/** What is missing for the trigger: the table, or columns it maps. */
async function checkTable(client: pg.ClientBase, t: TriggerSpec): Promise<void> {
  const { rows } = await client.query<{ column_name: string }>(
    'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
    [t.schema, t.table],
  );
  if (rows.length === 0) {
    const { rows: elsewhere } = await client.query<{ table_schema: string }>(
      `SELECT table_schema FROM information_schema.tables WHERE table_name = $1 ORDER BY 1`,
      [t.table],
    );
    const hint = elsewhere.length
      ? `; there is one in schema ${elsewhere.map((r) => r.table_schema).join(', ')} (name it with --schema)`
      : ' (name its schema with --schema; the default is public)';
    throw usage(`table ${t.schema}.${t.table} not found${hint}`);
  }
  const have = new Set(rows.map((r) => r.column_name));
  const missing = Object.entries(t.columns).filter(([, column]) => column && !have.has(column));
  if (missing.length)
    throw usage(
      `table ${t.schema}.${t.table} has no column ${missing.map(([part, c]) => `"${c}" (${part})`).join(', ')}; ` +
        `map them with --columns, e.g. --columns ${missing.map(([part]) => `${part}=<column>`).join(',')} ` +
        `(columns: ${[...have].join(', ')})`,
    );
}

/** The whole change: the outbox (if missing) and the trigger, or the trigger's removal. */
export const triggerSql = (spec: TriggerSpec, uninstall: boolean) =>
  uninstall ? uninstallTriggerSql(spec) : outboxSetupSql(spec.outbox) + installTriggerSql(spec);

/** Applies triggerSql in one transaction under the outbox's advisory lock; idempotent either way. */
export async function applyTriggers(url: string, spec: TriggerSpec, uninstall: boolean): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'vigil install-triggers' });
  try {
    await client.connect();
  } catch (err) {
    throw new DependencyError(
      'E_POSTGRES_UNREACHABLE',
      `cannot reach PostgreSQL at ${redactUrl(url)}: ${errorMessage(err)}`,
      'start PostgreSQL or set DATABASE_URL / the pg-outbox source url',
      { cause: err },
    );
  }
  try {
    await client.query('BEGIN');
    await client.query(setupLockSql, [spec.outbox.schema]);
    if (!uninstall) await checkTable(client, spec);
    await client.query(triggerSql(spec, uninstall));
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}

/** `vigil install-triggers`: one transaction under the outbox's advisory lock; idempotent either way. */
export async function runInstallTriggers(
  opts: InstallTriggersOptions,
  out: (line: string) => void = (l) => console.log(l),
): Promise<void> {
  const config = loadConfig(opts.config === undefined ? {} : { file: opts.config });
  const { url, place } = outboxOf(config, opts.source);
  const list = (text: string) =>
    text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const failed = list(opts.failed);
  const succeeded = list(opts.succeeded);
  const both = failed.filter((s) => succeeded.includes(s));
  if (both.length) throw usage(`--failed and --succeeded both name ${both.join(', ')}`);
  const spec: TriggerSpec = {
    schema: opts.schema,
    table: opts.table,
    columns: parseColumns(opts.columns),
    event: opts.event,
    failed,
    succeeded,
    outbox: place,
    maxErrorLog: MAX_ERROR_LOG,
  };
  const sql = triggerSql(spec, opts.uninstall === true);
  if (opts.dryRun) {
    out(`-- vigil install-triggers${opts.uninstall ? ' --uninstall' : ''} (dry run: nothing was changed)`);
    out(`BEGIN;\n${sql.trim()}\nCOMMIT;`);
    return;
  }
  await applyTriggers(url, spec, opts.uninstall === true);
  const table = `${spec.schema}.${spec.table}`;
  out(
    opts.uninstall
      ? `removed Vigil's triggers from ${table} (if there were any)`
      : `installed: ${table} raises "${spec.event}" into ${place.schema}.vigil_outbox on each status change (ok false: ${failed.join(', ')}; ok true: ${succeeded.join(', ')})`,
  );
}
