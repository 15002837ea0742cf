import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { DATABASE_URL, REDIS_URL, createTestEnv, type TestEnv } from '../support/env.js';

let env: TestEnv | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  await env?.cleanup();
  env = undefined;
});

/** A vigil.yaml whose pg-outbox (the default schema: the test's) the trigger feeds. */
function configFile(schema: string): string {
  dir = mkdtempSync(join(tmpdir(), 'vigil-triggers-'));
  const file = join(dir, 'vigil.yaml');
  writeFileSync(
    file,
    `database: { url: "${DATABASE_URL}", schema: ${schema} }\nredis: { url: "${REDIS_URL}" }\n` +
      `sources:\n  - { kind: pg-outbox, name: helix }\n`,
  );
  return file;
}

it('install-triggers: dry run changes nothing; install is idempotent and raises on status changes only; uninstall removes it', async () => {
  env = await createTestEnv();
  const { db, schema } = env;
  // Names that need quoting, and columns mapped to them.
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(
    `CREATE TABLE ${schema}."HELIX tasks" (task_id text PRIMARY KEY, "State" text, tries int, log text)`,
  );
  const cfg = configFile(schema);
  const args = [
    'install-triggers',
    '-c',
    cfg,
    '--schema',
    schema,
    '--table',
    'HELIX tasks',
    '--columns',
    'id=task_id,status=State,attempts=tries,error_log=log,updated_at=',
    '--failed',
    'failed,crashed',
  ];
  const triggers = async () =>
    (
      await db.query<{ tgname: string }>(
        `SELECT tgname FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal ORDER BY 1`,
        [`${schema}."HELIX tasks"`],
      )
    ).rows.map((r) => r.tgname);

  const dry = await runCli([...args, '--dry-run']);
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain(
    `CREATE TRIGGER "vigil_status_update" AFTER UPDATE ON "${schema}"."HELIX tasks"`,
  );
  expect(dry.stdout).toContain(`WHEN (OLD."State" IS DISTINCT FROM NEW."State")`);
  expect(dry.stdout).toContain(`ARRAY['failed', 'crashed']`);
  expect(await triggers()).toEqual([]);
  expect((await db.query(`SELECT to_regclass($1) AS t`, [`${schema}.vigil_outbox`])).rows[0].t).toBeNull();

  for (let i = 0; i < 2; i++) {
    const run = await runCli(args);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/installed: .*HELIX tasks raises "task-status"/);
  }
  expect(await triggers()).toEqual(['vigil_status_insert', 'vigil_status_update']);
  const t = `${schema}."HELIX tasks"`;
  await db.query(`INSERT INTO ${t} VALUES ('a', 'pending', 0, NULL)`);
  await db.query(`UPDATE ${t} SET tries = 1`); // no status change: no event
  await db.query(`UPDATE ${t} SET "State" = 'crashed', tries = 2, log = repeat('e', 3000)`);
  await db.query(`UPDATE ${t} SET "State" = 'done'`);
  const { rows } = await db.query(`SELECT name, labels, ok, data FROM ${schema}.vigil_outbox ORDER BY id`);
  expect(rows).toHaveLength(3);
  // A task under way neither fails nor heals a rule: no ok either way.
  expect(rows[0]).toMatchObject({
    name: 'task-status',
    labels: { table: 'HELIX tasks', status: 'pending' },
    ok: null,
  });
  expect(rows[2]).toMatchObject({ labels: { status: 'done' }, ok: true });
  expect(rows[1]).toMatchObject({
    labels: { status: 'crashed' },
    ok: false,
    data: { task_id: 'a', attempts: 2, previous_status: 'pending', updated_at: null },
  });
  expect(rows[1].data.error_log).toHaveLength(2000);

  const missing = await runCli([
    ...args.slice(0, -4),
    '--columns',
    'id=task_id,status=phase,attempts=tries,error_log=log,updated_at=',
  ]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain(
    `table ${schema}.HELIX tasks has no column "phase" (status); map them with --columns, e.g. --columns status=<column> (columns: task_id, State, tries, log)`,
  );

  // The table looked for in the default schema: the error says where it is.
  const elsewhere = await runCli(args.filter((a, i) => a !== '--schema' && args[i - 1] !== '--schema'));
  expect(elsewhere.code).toBe(1);
  expect(elsewhere.stderr).toContain(
    `table public.HELIX tasks not found; there is one in schema ${schema} (name it with --schema)`,
  );

  for (let i = 0; i < 2; i++) expect((await runCli([...args, '--uninstall'])).code).toBe(0);
  expect(await triggers()).toEqual([]);
  await db.query(`UPDATE ${t} SET "State" = 'failed'`);
  expect((await db.query(`SELECT count(*)::int AS n FROM ${schema}.vigil_outbox`)).rows[0].n).toBe(3);
});
