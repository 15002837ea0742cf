import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const config = 'test/fixtures/replay/vigil.yaml';
const log = 'test/fixtures/replay/production.log';
// The fixture log's times have no zone (Python's asctime): they are read as local time.
const env = { TZ: 'UTC' };

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});
const temp = (name: string, text: string) => {
  dir ??= mkdtempSync(join(tmpdir(), 'vigil-replay-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

const probeEvent = (id: string, at: string, ok: boolean, extra: object = {}) =>
  JSON.stringify({
    id,
    source: 'probe',
    name: 'helix-api-health',
    at,
    host: 'h',
    labels: { probe: 'helix-api-health', service: 'helix-api' },
    ok,
    ...extra,
  });

/** Fail, fail, fail, pass at 5 s steps, twice a minute apart: count=3 fires twice (10 s → 15 s, 1m10s → 1m15s). */
const failingTwice = () =>
  ['00:00', '00:05', '00:10', '00:15', '01:00', '01:05', '01:10', '01:15']
    .map((t, i) => probeEvent(`e${i}`, `2025-01-01T00:${t}Z`, i % 4 === 3))
    .join('\n');

describe('vigil rules test: replay on a virtual clock', () => {
  it('replays the fixture log through the log source and reproduces the hand-counted fires and resolves', async () => {
    // Counted by hand from test/fixtures/replay/production.log (count: 2; the orchestrator's INFO
    // poll is the recovery signal):
    //   11:00:00 ok, 11:00:05 ok
    //   11:00:07.120 traceback (task 41)           failing run 1
    //   11:00:10 ok                                 run broken
    //   11:00:12.500 traceback (task 42)           failing run 1
    //   11:00:13 traceback (task 43, chained: one record, one event)  run 2 → FIRE at 11:00:13
    //   11:00:15 ok                                 → RESOLVE at 11:00:15
    //   11:00:20, 11:01:30, 11:01:35 ok; the WARNING lines match no signal.
    // One incident, 2 s firing.
    const r = await runCli(['rules', 'test', 'helix-traceback', '-c', config, '--log', log], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^2025-07-08T11:00:13\.000Z {2}FIRE {5}helix-traceback\{\} {2}2 consecutive failures of helix-traceback \(in test\/fixtures\/replay\/production\.log\): \(\+\d+ lines\)$/,
      ),
      '2025-07-08T11:00:15.000Z  RESOLVE  helix-traceback{}  1 passing observation of helix-traceback in a row',
      '1 incident, longest 2s firing',
    ]);
  });

  it('judges deadlines between events: the heartbeat lost in the log fires in virtual time', async () => {
    // Polls at 11:00:00 … 11:00:20, then none until 11:01:30: silent more than 30 s at 11:00:50.001,
    // a moment no log line has; the poll at 11:01:30 resolves it.
    const r = await runCli(
      ['rules', 'test', 'orchestrator-heartbeat', '-c', config, '--log', log, '--json'],
      {
        env,
      },
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      transitions: Array<{ type: string; at: string }>;
      incidents: number;
    };
    expect(out.transitions.map((t) => [t.type, t.at])).toEqual([
      ['fire', '2025-07-08T11:00:50.001Z'],
      ['resolve', '2025-07-08T11:01:30.000Z'],
    ]);
    expect(out.incidents).toBe(1);
  });

  it('reports a bad line of --events with file:line and why, counts it, and replays the rest', async () => {
    const file = temp(
      'events.ndjson',
      [
        probeEvent('a1', '2025-01-01T00:00:10Z', false),
        probeEvent('a0', '2025-01-01T00:00:05Z', false), // out of order in the file: replayed in time order
        'not json',
        probeEvent('a2', '2025-01-01T00:00:15Z', false, { data: { error: 'HTTP 500' } }),
        probeEvent('a3', 'yesterday', false),
        probeEvent('a4', '2025-01-01T00:04:25Z', true),
        '',
      ].join('\n'),
    );
    const r = await runCli(['rules', 'test', 'api-health', '--events', file], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${file}:3: skipped: not JSON`);
    expect(r.stderr).toContain(`${file}:5: skipped: at: Invalid ISO datetime`);
    expect(r.stderr).toContain('2 bad lines skipped, 4 events read');
    expect(r.stdout).toContain(
      '2025-01-01T00:00:15.000Z  FIRE     api-health{service="helix-api"}  3 consecutive failures of helix-api-health: HTTP 500',
    );
    expect(r.stdout).toContain('1 incident, longest 4m 10s firing');
  });

  it('--set overrides a threshold; an unknown key or a bad value exits 2 with the reason', async () => {
    const file = temp('events.ndjson', failingTwice());
    const set = await runCli(['rules', 'test', 'api-health', '--events', file, '--set', 'count=4']);
    expect(set.stdout.trim()).toBe('no incidents');
    const bad = await runCli([
      'rules',
      'test',
      'api-health',
      '--events',
      file,
      '--set',
      'count=0',
      '--set',
      'nope=1',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('count must be a whole number ≥ 1, got 0');
    expect(bad.stderr).toContain(
      'unknown threshold key "nope" for a consecutive rule (known: count, resolveAfter)',
    );
  });

  it('--compare tabulates one replay per value', async () => {
    const file = temp('events.ndjson', failingTwice());
    const cmp = await runCli([
      'rules',
      'test',
      'api-health',
      '--events',
      file,
      '--compare',
      'count=2',
      'count=3',
      'count=4',
    ]);
    expect(cmp.code).toBe(0);
    expect(cmp.stdout.trim().split('\n')).toEqual([
      'setting  incidents  firing in all',
      'count=2          2            20s',
      'count=3          2            10s',
      'count=4          0             0s',
    ]);
  });

  it('--log for a rule no configured log source feeds is a clear error, exit 2', async () => {
    const r = await runCli(['rules', 'test', 'cpu-high', '-c', config, '--log', log]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `vigil: no log source in ${config} has a signal named "host-cpu" that rule "cpu-high" matches: add one (README, "Source log") or replay recorded events with --events\n`,
    );
    const probe = await runCli(['rules', 'test', 'api-health', '--log', log]);
    expect(probe.code).toBe(2);
    expect(probe.stderr).toContain('rule "api-health" matches probe events, which no log gives');
  });

  it('--plot writes a PNG', async () => {
    const out = join((dir ??= mkdtempSync(join(tmpdir(), 'vigil-replay-'))), 'plot.png');
    const r = await runCli(['rules', 'test', 'helix-traceback', '-c', config, '--log', log, '--plot', out], {
      env,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`plotted helix-traceback{} to ${out}`);
    const png = readFileSync(out);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  });
});

describe('vigil rules test --all: rule unit tests', () => {
  it('passes the rule tests of rules/tests (this is how `npm test` runs them)', async () => {
    const r = await runCli(['rules', 'test', '--all', '--dir', 'rules']);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed/);
    expect(r.stdout).not.toContain('✗');
    expect(r.code).toBe(0);
  });

  it('passes the fixtures (a `for` and a heartbeat firing in virtual time)', async () => {
    const r = await runCli(['rules', 'test', '--all', '-c', config], { env });
    expect(r.stdout).toContain('2 passed, 0 failed');
    expect(r.code).toBe(0);
  });

  it('fails with the first difference, and on an unreadable test file, exit 1', async () => {
    const r = await runCli(['rules', 'test', '--all', '-c', config, '-d', 'test/fixtures/replay-failing']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '✗ test/fixtures/replay-failing/tests/wrong-time.yaml (helix-traceback): expectation 1: expected fire at +20s (2025-01-01T00:00:20.000Z), got fire at +10s',
    );
    expect(r.stdout).toContain('tests/broken.yaml:3:11 events[0].at: a time');
    expect(r.stdout).toContain('0 passed, 2 failed');
  });
});
