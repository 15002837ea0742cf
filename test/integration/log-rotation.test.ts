import { copyFile, rename, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { VigilEvent } from '../../src/contracts/event.js';
import { createLogWorld, type LogWorld } from '../support/log-world.js';
import { LogWriter } from '../support/log-writer.js';
import { quietPeriod, until } from '../support/quiet.js';

let world: LogWorld | undefined;
let writer: LogWriter | undefined;
afterEach(async () => {
  await writer?.close();
  await world?.cleanup();
  world = writer = undefined;
});

const spec = (path: string) => ({
  paths: [path],
  multiline: 'python-traceback',
  multilineWait: '100ms',
  startAt: 'beginning',
  signals: [
    { name: 'helix-schema-validation', match: 'Schema validation failed' },
    { name: 'helix-traceback', match: '^Traceback' },
  ],
});

const seqOf = (e: VigilEvent) => Number(/task (\d+)/.exec(String(e.data?.text))?.[1]);

it('a log written while rotated both ways and while the source restarts: every record once, tracebacks joined', async () => {
  const w = (world = await createLogWorld());
  const path = join(w.dir, 'production.log');
  const log = (writer = new LogWriter(path));
  const expected = () => log.written.schema.length + log.written.traceback.length;
  /** logrotate's numbering: .1 → .2, then the live file's content becomes .1. */
  const shift = () => rename(`${path}.1`, `${path}.2`).catch(() => undefined);
  const renameRotate = async () => {
    await shift();
    await rename(path, `${path}.1`);
    await log.burst(10); // the program still writes to the renamed file until it reopens
    await log.reopen();
  };
  const copyTruncate = async () => {
    await shift();
    await copyFile(path, `${path}.1`);
    await truncate(path, 0);
  };

  await log.burst(60);
  let source = await w.start(spec(path));
  await log.burst(40);
  await renameRotate();
  await log.burst(40);
  await w.queued(expected());

  await log.burst(20);
  await copyTruncate(); // at once after writing: what the tail had not read yet is only in the copy
  await log.burst(40);
  await w.queued(expected());

  // Restarts, with a rotation of each kind while stopped.
  await log.burst(15);
  await source.close();
  await log.burst(30);
  await renameRotate();
  await log.burst(30);
  source = await w.start(spec(path));
  await log.burst(20);
  await w.queued(expected());
  await source.close();
  await log.burst(30);
  await copyTruncate();
  await log.burst(30);
  await w.start(spec(path)); // closed by cleanup()
  await log.burst(20);

  await w.queued(expected());
  await quietPeriod();
  const events = await w.events();
  const ids = new Set(events.map((e) => e.id));
  expect(ids.size).toBe(events.length);
  const seqs = (name: string) =>
    events
      .filter((e) => e.name === name)
      .map(seqOf)
      .sort((a, b) => a - b);
  expect(seqs('helix-schema-validation')).toEqual(log.written.schema);
  expect(seqs('helix-traceback')).toEqual(log.written.traceback);
  for (const e of events.filter((x) => x.name === 'helix-traceback')) {
    const seq = seqOf(e);
    expect(e.data?.text).toBe(
      [
        `${String(e.data?.text).split('\n')[0]}`,
        'Traceback (most recent call last):',
        '  File "/app/orchestrator.py", line 88, in poll',
        '    self.process(task)',
        `ValueError: task ${seq}`,
      ].join('\n'),
    );
    expect(String(e.data?.text)).toMatch(
      new RegExp(`^2025-07-08 \\S+ ERROR helix.orchestrator: task ${seq} crashed\\n`),
    );
    expect(e).toMatchObject({ source: 'log', ok: false, labels: { source: 'helix', file: path } });
  }
  expect(events.length).toBe(expected());
  // Each rotation was found where it went: the copy at runtime, both kinds while stopped.
  const drained = w.logs.records().map((r) => r.msg);
  expect(drained).toContain('truncated: reading the rest from the rotated file');
  expect(
    drained.filter((m) => m === 'rotated while stopped: reading the rest from the rotated file'),
  ).toHaveLength(2);
  await until(
    'the non-matching lines counted',
    () =>
      w.metrics.value('vigil_log_lines_total', { source: 'helix', outcome: 'skipped' }) >= log.written.info,
  );
});
