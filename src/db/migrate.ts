import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { VigilError } from '../errors.js';
import { withTransaction } from './pool.js';

const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

/** Arbitrary but fixed: every agent takes the same lock, so only one migrates at a time. */
const MIGRATION_LOCK = 0x76_69_67_69; // "vigi"

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function listMigrations(dir = migrationsDir): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f, sql: readFileSync(join(dir, f), 'utf8') }));
}

/**
 * Applies the numbered migrations that are missing, all in one transaction under a transaction-scoped
 * advisory lock: a second agent starting at the same moment waits, then finds nothing left to do.
 */
export async function migrate(pool: pg.Pool, schema: string, dir = migrationsDir): Promise<string[]> {
  const migrations = listMigrations(dir);
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`SET LOCAL search_path TO ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS vigil_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM vigil_migrations');
    const done = new Set(rows.map((r) => r.version));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      try {
        await client.query(m.sql);
      } catch (err) {
        throw new VigilError('E_MIGRATION', `migration ${m.name} failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      await client.query('INSERT INTO vigil_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.name);
    }
    return applied;
  });
}

/** The latest migration version known to this build vs the database's, for `doctor`. */
export async function pendingMigrations(pool: pg.Pool, dir = migrationsDir): Promise<string[]> {
  const { rows } = await pool
    .query<{ version: number }>('SELECT version FROM vigil_migrations')
    .catch(() => ({ rows: [] as { version: number }[] }));
  const done = new Set(rows.map((r) => r.version));
  return listMigrations(dir)
    .filter((m) => !done.has(m.version))
    .map((m) => m.name);
}
