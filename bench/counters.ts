import pg from 'pg';
import type { Redis } from 'ioredis';

/** Redis's own counters; both include the commands that Lua scripts run (checked on Redis 7.0). */
export interface RedisCounters {
  /** INFO stats total_commands_processed. */
  total: number;
  /** INFO commandstats: calls per command. */
  calls: Map<string, number>;
}

/** One INFO command for both sections, so a snapshot costs exactly one command of its own. */
export async function redisCounters(redis: Redis): Promise<RedisCounters> {
  const info = (await redis.call('INFO', 'stats', 'commandstats')) as string;
  const total = Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? Number.NaN);
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1] as string, Number(m[2]));
  return { total, calls };
}

export interface RedisDelta {
  total: number;
  commandstats: number;
  /** Calls per command over the window, most called first. */
  byCommand: [string, number][];
}

/**
 * What the server did between two snapshots, less the bench's own commands in between: the first
 * snapshot (a snapshot never counts itself) and `own` more (the bench's idle checks, all INFO-free).
 */
export function redisDelta(
  before: RedisCounters,
  after: RedisCounters,
  own: Map<string, number>,
): RedisDelta {
  const mine = new Map(own);
  mine.set('info', (mine.get('info') ?? 0) + 1);
  const byCommand: [string, number][] = [];
  for (const [cmd, calls] of after.calls) {
    const d = calls - (before.calls.get(cmd) ?? 0) - (mine.get(cmd) ?? 0);
    if (d > 0) byCommand.push([cmd, d]);
  }
  byCommand.sort((a, b) => b[1] - a[1]);
  const ownTotal = [...mine.values()].reduce((a, b) => a + b, 0);
  return {
    total: after.total - before.total - ownTotal,
    commandstats: byCommand.reduce((a, [, n]) => a + n, 0),
    byCommand,
  };
}

/**
 * Reads pg_stat_database from another database of the same server, so reading adds nothing to the
 * counters it reads. A backend reports its commits when it flushes its statistics, which for
 * transactions that touch no table can be as late as its exit: only a window that begins before
 * the agent's connections exist and ends after they are gone counts every one of them.
 */
export class PgCounters {
  private readonly client: pg.Client;
  readonly database: string;

  constructor(databaseUrl: string) {
    const url = new URL(databaseUrl);
    this.database = decodeURIComponent(url.pathname.slice(1)) || 'postgres';
    url.pathname = this.database === 'postgres' ? '/template1' : '/postgres';
    this.client = new pg.Client({ connectionString: url.toString(), application_name: 'vigil-bench-stats' });
  }

  async connect(): Promise<void> {
    await this.client.connect();
  }

  async commits(): Promise<number> {
    const { rows } = await this.client.query<{ n: string }>(
      'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1',
      [this.database],
    );
    return Number(rows[0]?.n ?? Number.NaN);
  }

  /** Sessions in the bench's database other than `ours` (application_name prefix): noise if any. */
  async strangers(ours: string): Promise<string[]> {
    const { rows } = await this.client.query<{ name: string }>(
      `SELECT coalesce(nullif(application_name, ''), backend_type) AS name FROM pg_stat_activity
       WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name NOT LIKE $2
         AND backend_type = 'client backend'`,
      [this.database, `${ours}%`],
    );
    return rows.map((r) => r.name);
  }

  /** Waits until no session named `name` is left: each reports its last commits as it exits. */
  async untilGone(name: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await this.client.query<{ n: string }>(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1',
        [name],
      );
      if (rows[0]?.n === '0') return;
      if (Date.now() > deadline)
        throw new Error(`bench: sessions "${name}" still open after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): Promise<void> {
    return this.client.end();
  }
}
