import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listMigrations, migrate, pendingMigrations } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { VigilError } from '../../src/errors.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let admin: pg.Pool;
beforeAll(() => {
  admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
});
afterAll(() => admin.end());

const opened: pg.Pool[] = [];
const schemas: string[] = [];
const dirs: string[] = [];

function freshSchema(): string {
  const schema = `t_migrate_${randomBytes(4).toString('hex')}`;
  schemas.push(schema);
  return schema;
}

/** A pool like an agent's: every connection works in `schema`. */
function agentPool(schema: string): pg.Pool {
  const pool = createPool({ url: DATABASE_URL, schema, poolSize: 2 }, `vigil test-migrate-${schema}`);
  opened.push(pool);
  return pool;
}

function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-migrations-'));
  dirs.push(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((p) => p.end()));
  for (const schema of schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function applied(schema: string): Promise<Array<{ version: number; name: string }>> {
  const { rows } = await admin.query(`SELECT version, name FROM ${schema}.vigil_migrations ORDER BY version`);
  return rows;
}

async function tables(schema: string): Promise<string[]> {
  const { rows } = await admin.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
    [schema],
  );
  return rows.map((r) => r.table_name);
}

describe('migrate on real PostgreSQL', () => {
  it('lets two agents starting at once both succeed, applying each migration exactly once', async () => {
    const schema = freshSchema();
    const all = listMigrations().map((m) => m.name);
    expect(all.length).toBeGreaterThan(0);

    const [a, b] = await Promise.all([
      migrate(agentPool(schema), schema),
      migrate(agentPool(schema), schema),
    ]);
    // One did the work, the other waited for it and found nothing left.
    expect([a, b].sort((x, y) => y.length - x.length)).toEqual([all, []]);
    expect(await applied(schema)).toEqual(
      listMigrations().map((m) => ({ version: m.version, name: m.name })),
    );
    expect(await tables(schema)).toEqual(
      expect.arrayContaining(['vigil_incidents', 'vigil_incident_transitions', 'vigil_thresholds']),
    );

    // A later start applies nothing and changes nothing.
    expect(await migrate(agentPool(schema), schema)).toEqual([]);
    expect(await applied(schema)).toHaveLength(all.length);
    expect(await pendingMigrations(agentPool(schema))).toEqual([]);
  });

  it('reports every migration as pending on a fresh schema (what `doctor` shows)', async () => {
    const schema = freshSchema();
    expect(await pendingMigrations(agentPool(schema))).toEqual(listMigrations().map((m) => m.name));
  });

  it('applies only the migrations added since the last run, in order', async () => {
    const schema = freshSchema();
    const first = { '001_create_a.sql': 'CREATE TABLE a (id int PRIMARY KEY);' };
    expect(await migrate(agentPool(schema), schema, migrationsDir(first))).toEqual(['001_create_a.sql']);

    const later = migrationsDir({
      ...first,
      '003_add_b_name.sql': 'ALTER TABLE b ADD COLUMN name text;',
      '002_create_b.sql': 'CREATE TABLE b (id int PRIMARY KEY);',
      'notes.txt': 'not a migration',
      '4_bad_name.sql': 'SELECT 1/0;',
    });
    expect(await migrate(agentPool(schema), schema, later)).toEqual([
      '002_create_b.sql',
      '003_add_b_name.sql',
    ]);
    expect((await applied(schema)).map((m) => m.version)).toEqual([1, 2, 3]);
    expect(await tables(schema)).toEqual(['a', 'b', 'vigil_migrations']);
  });

  it('applies nothing when a migration fails, and names the one that failed', async () => {
    const schema = freshSchema();
    const dir = migrationsDir({
      '001_create_a.sql': 'CREATE TABLE a (id int PRIMARY KEY);',
      '002_broken.sql': 'ALTER TABLE no_such_table ADD COLUMN x int;',
    });
    const err = await migrate(agentPool(schema), schema, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VigilError);
    expect((err as VigilError).code).toBe('E_MIGRATION');
    expect((err as VigilError).message).toMatch(/^migration 002_broken\.sql failed: .*no_such_table/);
    // All or nothing: the first migration was rolled back with the second.
    expect(await tables(schema)).toEqual([]);

    // Once fixed, both apply.
    writeFileSync(join(dir, '002_broken.sql'), 'ALTER TABLE a ADD COLUMN x int;');
    expect(await migrate(agentPool(schema), schema, dir)).toEqual(['001_create_a.sql', '002_broken.sql']);
  });
});
