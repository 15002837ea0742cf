import { appendFile, mkdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogWorld, type LogWorld } from '../support/log-world.js';
import { quietPeriod, until } from '../support/quiet.js';

let world: LogWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

const schema = { name: 'helix-schema-validation', match: 'Schema validation failed' };
const fail = (n: number) =>
  `2025-07-08 11:17:02,123 ERROR helix.agent: Schema validation failed for task ${n}\n`;
const info = (n: number) => `2025-07-08 11:17:02,123 INFO helix.orchestrator: polled (${n})\n`;
const texts = async (w: LogWorld) => (await w.events()).map((e) => String(e.data?.text));
const lines = (w: LogWorld, outcome: string) =>
  w.metrics.value('vigil_log_lines_total', { source: 'helix', outcome });

describe('following files', () => {
  it('waits for a file that does not exist yet, and follows it once it appears', async () => {
    const w = (world = await createLogWorld());
    const path = join(w.dir, 'later.log');
    await w.start({ paths: [path], signals: [schema] });
    await writeFile(path, `${info(1)}${fail(2)}`);
    await w.queued(1);
    expect(await texts(w)).toEqual([fail(2).trimEnd()]);
  });

  it('a file deleted and created again: the old one read to its end, the new one from its start', async () => {
    const w = (world = await createLogWorld());
    const path = join(w.dir, 'production.log');
    await writeFile(path, fail(1));
    await w.start({ paths: [path], startAt: 'beginning', signals: [schema] });
    await w.queued(1);
    await unlink(path);
    await writeFile(path, `${fail(2)}${fail(3)}`);
    await w.queued(3);
    await quietPeriod(500);
    expect(await texts(w)).toEqual([1, 2, 3].map((n) => fail(n).trimEnd()));
  });

  it('a glob picks up files created after the start, each from its start', async () => {
    const w = (world = await createLogWorld());
    await writeFile(join(w.dir, 'a.log'), fail(1));
    await w.start({ paths: [join(w.dir, '*.log')], startAt: 'beginning', signals: [schema] });
    await w.queued(1);
    await writeFile(join(w.dir, 'b.log'), fail(2));
    await writeFile(join(w.dir, 'b.log.1'), fail(3)); // not matched by *.log
    await w.queued(2);
    await quietPeriod(500);
    const events = await w.events();
    expect(events.map((e) => e.labels.file)).toEqual([join(w.dir, 'a.log'), join(w.dir, 'b.log')]);
  });

  it('at the very first start, a file already there is read from its end; later lines are read', async () => {
    const w = (world = await createLogWorld());
    const path = join(w.dir, 'production.log');
    await writeFile(path, `${fail(1)}${fail(2)}`);
    await w.start({ paths: [path], signals: [schema] });
    await appendFile(path, fail(3));
    await w.queued(1);
    await quietPeriod(300);
    expect(await texts(w)).toEqual([fail(3).trimEnd()]);
  });
});

describe('paths that lead to no file', () => {
  const said = (w: LogWorld, re: RegExp) => w.logs.records().filter((r) => re.test(String(r.msg)));

  it('a file not there yet: said once at info, health stays ok; said again when it appears', async () => {
    const w = (world = await createLogWorld());
    const path = join(w.dir, 'later.log');
    await w.start({ paths: [path], signals: [schema] });
    await quietPeriod(300);
    expect(said(w, /no file matches this path yet/)).toEqual([
      expect.objectContaining({ level: 30, path, source: 'helix' }),
    ]);
    expect(said(w, /does not exist/)).toEqual([]);
    expect(w.health.ok).toBe(true);
    await writeFile(path, fail(1));
    await w.queued(1);
    await until('the wait ended', () => said(w, /a file matches this path now/).length === 1);
  });

  it('a folder that does not exist: warned once, health degraded naming it, until it and a file appear', async () => {
    const w = (world = await createLogWorld());
    const folder = join(w.dir, 'helix');
    const pattern = join(folder, '*.log');
    await w.start({ paths: [pattern], signals: [schema] });
    await until('health degraded', () => !w.health.ok);
    expect(w.health.problems()).toEqual({ 'log helix paths': `folder does not exist: ${folder}` });
    await quietPeriod(300);
    expect(said(w, /does not exist/)).toEqual([
      expect.objectContaining({
        level: 40,
        path: pattern,
        folder,
        msg: `folder ${folder} does not exist; waiting for it`,
      }),
    ]);
    await mkdir(folder);
    await until('health back', () => w.health.ok);
    await until('the folder seen', () => said(w, /no file matches this path yet/).length === 1);
    await writeFile(join(folder, 'production.log'), fail(1));
    await w.queued(1);
    await until('the wait ended', () => said(w, /a file matches this path now/).length === 1);
    expect(said(w, /does not exist/)).toHaveLength(1);
  });
});

describe('filtering at the source', () => {
  it('evaluates only signals a rule uses; other lines are counted, not queued', async () => {
    const w = (world = await createLogWorld());
    const path = join(w.dir, 'production.log');
    const heartbeat = { name: 'helix-heartbeat', match: 'heartbeat', ok: true };
    await w.start({ paths: [path], startAt: 'beginning', signals: [schema, heartbeat] }, [heartbeat.name]);
    await writeFile(path, `${fail(1)}${info(2)}2025-07-08 11:17:05,000 INFO helix.orchestrator: heartbeat\n`);
    const [event] = await w.queued(1);
    await until('all three lines counted', () => lines(w, 'skipped') + lines(w, 'matched') === 3);
    expect(event).toMatchObject({ name: 'helix-heartbeat', ok: true });
    expect(lines(w, 'matched')).toBe(1);
    expect(await w.events()).toHaveLength(1);
  });

  it('regex parser: named groups are fields, labels and the value; the record time dates the event', async () => {
    const w = (world = await createLogWorld());
    const path = join(w.dir, 'production.log');
    await w.start({
      paths: [path],
      startAt: 'beginning',
      parser: {
        kind: 'regex',
        pattern: String.raw`^(?<time>\S+ \S+) (?<level>[A-Z]+) (?<logger>[\w.-]+): .*took (?<ms>\d+) ms`,
      },
      signals: [
        { name: 'helix-slow-poll', match: '^WARNING$', field: 'level', value: 'ms', labels: ['logger'] },
      ],
    });
    await writeFile(path, '2025-07-08 11:17:02,123 WARNING helix.orchestrator: poll took 812 ms\n');
    const [event] = await w.queued(1);
    expect(event).toMatchObject({
      name: 'helix-slow-poll',
      value: 812,
      at: new Date(2025, 6, 8, 11, 17, 2, 123).toISOString(),
      labels: { logger: 'helix.orchestrator', source: 'helix', file: path },
      data: { fields: { level: 'WARNING', ms: '812' } },
    });
  });
});

describe('bad input: counted, logged once, the tail goes on', () => {
  it('a line over maxLineBytes is cut and flagged, without waiting for its end', async () => {
    const w = (world = await createLogWorld());
    const path = join(w.dir, 'production.log');
    await w.start({ paths: [path], startAt: 'beginning', maxLineBytes: 256, signals: [schema] });
    await writeFile(path, `Schema validation failed ${'x'.repeat(5000)}`); // no newline yet
    const [long] = await w.queued(1);
    expect(long?.data).toMatchObject({ flags: ['truncated'] });
    expect(String(long?.data?.text)).toHaveLength(256);
    await appendFile(path, `${'y'.repeat(3000)}\n${fail(2)}`);
    await w.queued(2);
    expect((await texts(w))[1]).toBe(fail(2).trimEnd());
    expect(lines(w, 'truncated')).toBe(1);
    await until('logged', () => w.logs.records().some((r) => r.problem === 'long-line'));
  });

  it('invalid UTF-8 is replaced and flagged; NUL bytes end lines', async () => {
    const w = (world = await createLogWorld());
    const path = join(w.dir, 'production.log');
    await w.start({ paths: [path], startAt: 'beginning', signals: [{ name: 'err', match: '^ERROR' }] });
    await writeFile(
      path,
      Buffer.concat([
        Buffer.from('ERROR bad bytes '),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from('\n'),
        Buffer.alloc(100),
        Buffer.from('ERROR after a hole\n'),
      ]),
    );
    const events = await w.queued(2);
    expect(events[0]?.data).toMatchObject({ text: 'ERROR bad bytes \uFFFD(\uFFFD', flags: ['invalid-utf8'] });
    expect(events[1]?.data).toMatchObject({ text: 'ERROR after a hole', offset: 120 });
    expect(lines(w, 'invalid')).toBe(2);
    const problems = w.logs.records().map((r) => r.problem);
    expect(problems.filter((p) => p === 'invalid-utf8')).toHaveLength(1);
    expect(problems.filter((p) => p === 'nul')).toHaveLength(1);
  });

  it('a file that cannot be opened: logged once with the reason, counted, health degraded, then read once it can be', async () => {
    const w = (world = await createLogWorld());
    // Tests run as root, for whom permissions are no obstacle: a symlink loop cannot be opened by anyone.
    const path = join(w.dir, 'production.log');
    await symlink(path, path);
    await w.start({ paths: [path], startAt: 'beginning', signals: [schema] });
    await until('health degraded', () => !w.health.ok);
    expect(w.health.problems()['log helix']).toMatch(/cannot read .*production\.log/);
    await until(
      'several polls',
      () => w.metrics.value('vigil_log_errors_total', { source: 'helix', reason: 'unreadable' }) >= 3,
    );
    const logged = w.logs.records().filter((r) => r.problem === 'read');
    expect(logged).toHaveLength(1);
    expect(String(logged[0]?.msg)).toMatch(/ELOOP/);
    await rm(path);
    await writeFile(path, fail(1));
    await w.queued(1);
    await until('health back', () => w.health.ok);
  });
});
