import { execFile } from 'node:child_process';
import { createServer, connect, type AddressInfo } from 'node:net';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { commandProbeSchema } from '../src/sources/probes/command.js';
import { hostProbeRunner, runProbe } from '../src/sources/probes/registry.js';
import { hostProbeSchema } from '../src/sources/probes/schema.js';
import { sqlProbeSchema } from '../src/sources/probes/sql.js';
import { tcpProbeSchema } from '../src/sources/probes/tcp.js';
import type { BenchSection } from './sections.js';
import { median } from './stats.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROUNDS = 5;
const PER_ROUND = 40;

/** Mean ms per call over PER_ROUND sequential calls. */
async function round(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < PER_ROUND; i++) await fn();
  return (performance.now() - started) / PER_ROUND;
}

/** Medians over ROUNDS, the two interleaved so neither gets the quieter moments. */
async function compare(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number, number]> {
  const as: number[] = [];
  const bs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    as.push(await round(a));
    bs.push(await round(b));
  }
  return [median(as), median(bs)];
}

const common = { every: '10s', timeout: '5s' };

/**
 * What a probe run costs the agent, each kind next to the bare operation it wraps, measured in the
 * same run: the ratio is the runner's own overhead (and, for SQL, the price of a connection per run).
 */
async function run(): Promise<string> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const held = new pg.Client({ connectionString: DATABASE_URL });
  await held.connect();
  const script = 'console.log(JSON.stringify({ ok: true, value: 1 }))';
  const child = execFile(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'vigil-bench-probe']);
  const rows: string[] = [];
  const pidfile = join(tmpdir(), `vigil-bench-probe-${process.pid}.pid`);
  const processes = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length;
  const row = async (
    what: string,
    probe: () => Promise<unknown>,
    baselineWhat: string,
    baseline: () => Promise<unknown>,
  ) => {
    const [base, mine] = await compare(baseline, probe);
    rows.push(
      `| ${what} | ${mine.toFixed(3)} | ${baselineWhat} | ${base.toFixed(3)} | ${(mine / base).toFixed(2)}× |`,
    );
  };
  try {
    const tcp = tcpProbeSchema.parse({ kind: 'tcp', name: 't', host: '127.0.0.1', port, ...common });
    await row(
      'tcp',
      () => runProbe(tcp),
      '`net.connect` + destroy',
      () =>
        new Promise<void>((resolve) => {
          const s = connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve()));
        }),
    );
    const sql = sqlProbeSchema.parse({
      kind: 'sql',
      name: 's',
      url: DATABASE_URL,
      query: 'SELECT 1',
      ...common,
    });
    await row(
      'sql `SELECT 1` (connection per run)',
      () => runProbe(sql),
      'same query on a held connection',
      () => held.query('SELECT 1'),
    );
    const command = commandProbeSchema.parse({
      kind: 'command',
      name: 'c',
      argv: [process.execPath, '-e', script],
      ...common,
    });
    await row(
      'command (node printing JSON)',
      () => runProbe(command),
      '`execFile` of the same program',
      () => promisify(execFile)(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '' } }),
    );
    const byCmdline = hostProbeRunner(
      hostProbeSchema.parse({
        kind: 'process',
        name: 'p',
        cmdline: [process.execPath, '-e', 'setInterval(() => {}, 1000)', 'vigil-bench-probe'],
        measure: 'rss',
        ...common,
      }),
    );
    writeFileSync(pidfile, String(child.pid));
    const byPidfile = hostProbeRunner(
      hostProbeSchema.parse({ kind: 'process', name: 'f', pidfile, measure: 'rss', ...common }),
    );
    await row(
      'process by exact cmdline (scans /proc), rss',
      byCmdline,
      'the same process by pidfile',
      byPidfile,
    );
  } finally {
    rmSync(pidfile, { force: true });
    child.kill('SIGKILL');
    await held.end();
    await new Promise((resolve) => server.close(resolve));
  }
  return [
    `Mean ms per run, median of ${ROUNDS} rounds of ${PER_ROUND} sequential runs, interleaved with rounds of the bare operation it wraps (same run, same PATH-only environment for the program).`,
    '',
    '| probe | ms per run | baseline | ms | ratio |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `The cmdline scan reads every /proc/<pid>/cmdline: ${processes} processes on this host; its cost grows with that number.`,
  ].join('\n');
}

export const probesBench: BenchSection = { key: 'probes', title: 'Probe runs: cost per kind', run };
