import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type pg from 'pg';
import type { Redis } from 'ioredis';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  redis: string;
  postgres: string;
  packages: Record<string, string>;
  /** 1/5/15-minute load averages when the bench started: other work on the box widens the tail. */
  load: string;
  /** The code measured: commit, and whether the work tree differed from it. */
  commit: string;
}

/** `abc1234 (branch)`, marked when files differ from the commit: the figures are then not its own. */
function describeCommit(): string {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: new URL('..', import.meta.url), encoding: 'utf8' }).trim();
  try {
    const commit = git('rev-parse', '--short=12', 'HEAD');
    const branch = git('rev-parse', '--abbrev-ref', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return `${commit} (${branch})${dirty ? ' with uncommitted changes' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function packageVersion(name: string): string {
  try {
    const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** What the figures were measured on, with server versions read from the servers themselves. */
export async function describeMachine(db: pg.Pool, redis: Redis): Promise<Machine> {
  const info = await redis.info('server');
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  const { rows } = await db.query<{ server_version: string }>('SHOW server_version');
  return {
    cpu: os.cpus()[0]?.model ?? '?',
    cores: os.cpus().length,
    memoryGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    redis: redisVersion,
    postgres: rows[0]?.server_version ?? '?',
    commit: describeCommit(),
    load: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' / '),
    packages: Object.fromEntries(
      ['bullmq', 'ioredis', 'pg', '@slack/web-api'].map((n) => [n, packageVersion(n)]),
    ),
  };
}
