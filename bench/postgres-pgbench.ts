import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** pgbench from PATH, else the newest PostgreSQL's under /usr/lib/postgresql. */
export function findPgbench(): string | undefined {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'pgbench')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0]) return join(root, versions[0], 'bin', 'pgbench');
  const onPath = (process.env.PATH ?? '').split(':').find((d) => d && existsSync(join(d, 'pgbench')));
  return onPath && join(onPath, 'pgbench');
}

export interface Pgbench {
  /** One run of the update script: transactions per second, excluding connection time. */
  tps(): Promise<number>;
  close(): void;
}

/**
 * HELIX's writers, simplified: each transaction moves one random task to another status, so with
 * the trigger installed every one of them raises an event.
 */
export function pgbenchUpdates(opts: {
  bin: string;
  url: string;
  schema: string;
  tasks: number;
  clients: number;
  seconds: number;
}): Pgbench {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pgbench-'));
  const script = join(dir, 'update.sql');
  const table = `${pg.escapeIdentifier(opts.schema)}.tasks`;
  writeFileSync(
    script,
    `\\set id random(1, ${opts.tasks})\n` +
      `UPDATE ${table} SET status = CASE WHEN status = 'running' THEN 'done' ELSE 'running' END, ` +
      `attempts = attempts + 1, updated_at = now() WHERE id = :id;\n`,
  );
  const u = new URL(opts.url);
  const args = [
    '-n', // no vacuum of pgbench's own tables: there are none
    '-f',
    script,
    '-c',
    String(opts.clients),
    '-j',
    String(Math.min(opts.clients, 2)),
    '-T',
    String(opts.seconds),
    '-h',
    u.hostname || 'localhost',
    '-p',
    u.port || '5432',
    '-U',
    decodeURIComponent(u.username || 'postgres'),
    decodeURIComponent(u.pathname.slice(1) || 'postgres'),
  ];
  // The password goes by the environment, never the command line.
  const env = { ...process.env, ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}) };
  return {
    async tps() {
      const { stdout } = await run(opts.bin, args, { env });
      const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1];
      if (!tps) throw new Error(`pgbench printed no tps:\n${stdout}`);
      return Number(tps);
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
