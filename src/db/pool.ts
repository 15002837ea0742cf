import pg from 'pg';
import { DependencyError, errorMessage } from '../errors.js';
import { redactUrl } from '../log.js';
import type { VigilConfig } from '../config/schema.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/** `int8` ids stay strings (no precision loss); timestamps arrive as Date. */
export function createPool(db: VigilConfig['database'], applicationName = 'vigil'): pg.Pool {
  const pool = new pg.Pool({
    connectionString: db.url,
    max: db.poolSize,
    application_name: applicationName,
    // Every connection works in the configured schema, so tests (and tenants) isolate by schema.
    options: `-c search_path=${db.schema}`,
    connectionTimeoutMillis: 5000,
  });
  // An idle client losing its server must not crash the agent; the pool replaces it.
  pool.on('error', () => undefined);
  // Nor may a checked-out one (a sweeper's lock session, a transaction): its queries reject anyway.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Fails with one clear line naming the URL and the fix when PostgreSQL is unreachable. */
export async function checkPostgres(pool: pg.Pool, url: string): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    throw new DependencyError(
      'E_POSTGRES_UNREACHABLE',
      `cannot reach PostgreSQL at ${redactUrl(url)}: ${errorMessage(err) || (err as { code?: string }).code}`,
      'start PostgreSQL (e.g. `docker compose up -d postgres`) or set DATABASE_URL / database.url',
      { cause: err, retryable: true },
    );
  }
}

export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
