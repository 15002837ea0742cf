import pg from 'pg';
import type { ConnectionEvents } from '../connection-watch.js';
import { DependencyError, errorMessage } from '../errors.js';
import { redactUrl } from '../log.js';
import type { VigilConfig } from '../config/schema.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

type ConnectCallback = (err: Error | null, client?: pg.Client) => void;

/** A pg client that reports whether each connection attempt worked. */
function watchedClient(events: ConnectionEvents): typeof pg.Client {
  const report = (err: Error | null | undefined) => (err ? events.error(err) : events.ok());
  return class WatchedClient extends pg.Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): void;
    override connect(
      callback?: ((err: Error) => void) | ((err: null, c: pg.Client) => void),
    ): Promise<pg.Client> | void {
      if (!callback) {
        return super.connect().then(
          (client) => {
            report(null);
            return client;
          },
          (err: Error) => {
            report(err);
            throw err;
          },
        );
      }
      // The pool's way: one callback, called with (err) or (null, client).
      const done = callback as ConnectCallback;
      super.connect(((err: Error | null, client?: pg.Client) => {
        report(err);
        done(err, client);
      }) as (err: Error) => void);
    }
  };
}

/**
 * `int8` ids stay strings (no precision loss); timestamps arrive as Date. `events` hears every
 * failed connection attempt and lost idle connection, and each successful connect.
 */
export function createPool(
  db: VigilConfig['database'],
  applicationName = 'vigil',
  events?: ConnectionEvents,
): pg.Pool {
  const pool = new pg.Pool({
    ...(events ? { Client: watchedClient(events) } : {}),
    connectionString: db.url,
    max: db.poolSize,
    application_name: applicationName,
    // Every connection works in the configured schema, so tests (and tenants) isolate by schema.
    options: `-c search_path=${db.schema}`,
    connectionTimeoutMillis: 5000,
  });
  // An idle client losing its server must not crash the agent; the pool replaces it.
  pool.on('error', (err) => events?.error(err));
  // Nor may a checked-out one (a sweeper's lock session, a transaction): its queries reject anyway.
  pool.on('connect', (client) => client.on('error', (err) => events?.error(err)));
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

/**
 * The CLI's check that the schema has this version's tables (the newest is the remediation runs'):
 * a command run before `vigil migrate` says so rather than failing on a SQL error.
 */
export async function checkMigrated(pool: Pool, schema: string): Promise<void> {
  const { rows } = await pool.query<{ t: string | null }>(
    `SELECT to_regclass('vigil_remediation_runs')::text AS t`,
  );
  if (!rows[0]?.t)
    throw new DependencyError(
      'E_NOT_MIGRATED',
      `schema ${schema} is not migrated to this version`,
      'run `vigil migrate` with this config (the agent also migrates when it starts)',
    );
}
