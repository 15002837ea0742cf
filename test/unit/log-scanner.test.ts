import { describe, expect, it } from 'vitest';
import { everyLine, PatternHits } from '../../src/sources/logs/hits.js';
import { createJoiner } from '../../src/sources/logs/multiline.js';
import { emptyTally, Scanner, type LogRecord } from '../../src/sources/logs/scanner.js';
import type { MultilineMode } from '../../src/sources/logs/schema.js';

function scanAll(
  chunks: Array<string | Buffer>,
  mode: MultilineMode = 'none',
  patterns?: RegExp[],
  max = 1024,
) {
  const scanner = new Scanner(max, createJoiner(mode), patterns ? new PatternHits(patterns) : everyLine);
  const out: LogRecord[] = [];
  const tally = emptyTally();
  let offset = 0;
  for (const c of chunks) {
    const buf = typeof c === 'string' ? Buffer.from(c) : c;
    scanner.scan(buf, offset, tally, out);
    offset += buf.length;
  }
  const pending = scanner.pendingOffset;
  scanner.flush(tally, out);
  return { out, tally, pending };
}

const traceback = [
  '2025-07-08 11:17:02,123 ERROR helix.orchestrator: task 109039 crashed',
  'Traceback (most recent call last):',
  '  File "/app/orchestrator.py", line 88, in poll',
  '    self.process(task)',
  'ValueError: error_log is NULL',
];

describe('records from lines', () => {
  it('one record per line, with the byte offset of each (multi-byte text before it included)', () => {
    const { out } = scanAll(['任务 a\nsecond line\n', 'third\n']);
    expect(out.map((r) => [r.offset, r.text])).toEqual([
      [0, '任务 a'],
      [Buffer.byteLength('任务 a\n'), 'second line'],
      [Buffer.byteLength('任务 a\nsecond line\n'), 'third'],
    ]);
  });

  it('only lines a pattern hits become records; the rest are counted as skipped', () => {
    const { out, tally } = scanAll(['a INFO ok\nb ERROR boom\nc INFO ok\n'], 'none', [/ERROR/]);
    expect(out.map((r) => r.text)).toEqual(['b ERROR boom']);
    expect(tally.skipped).toBe(2);
  });

  it('anchored patterns match at each line start within a chunk', () => {
    const { out } = scanAll(['x Traceback\nTraceback (most recent call last):\n'], 'none', [/^Traceback/]);
    expect(out.map((r) => r.offset)).toEqual([12]);
  });
});

describe('python-traceback', () => {
  it('joins the message line, the traceback, its frames and the exception line into one record', () => {
    const text = `${['2025-07-08 11:17:01,000 INFO before', ...traceback, '2025-07-08 11:17:03,000 INFO after'].join('\n')}\n`;
    const { out } = scanAll([text], 'python-traceback');
    expect(out.map((r) => r.text)).toEqual([
      '2025-07-08 11:17:01,000 INFO before',
      traceback.join('\n'),
      '2025-07-08 11:17:03,000 INFO after',
    ]);
    expect(out[1]?.lines).toBe(5);
    expect(out[1]?.offset).toBe(Buffer.byteLength('2025-07-08 11:17:01,000 INFO before\n'));
  });

  it('a traceback split across chunks is one record, found by a pattern in any of its lines', () => {
    const text = `${traceback.join('\n')}\nnext line\n`;
    const cut = text.indexOf('    self');
    const { out } = scanAll([text.slice(0, cut), text.slice(cut)], 'python-traceback', [/ValueError/]);
    expect(out.map((r) => r.text)).toEqual([traceback.join('\n')]);
  });

  it('keeps chained exceptions in the same record', () => {
    const chained = [
      ...traceback,
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      '  File "/app/x.py", line 1, in <module>',
      'KeyError: 1',
    ];
    const { out } = scanAll([`${chained.join('\n')}\nafter\n`], 'python-traceback');
    expect(out.map((r) => r.lines)).toEqual([chained.length, 1]);
  });

  it('the last record stays open until flushed (more lines could still join it)', () => {
    const { out, pending } = scanAll([`first\n${traceback.join('\n')}\n`], 'python-traceback', [/Traceback/]);
    expect(pending).toBe(6);
    expect(out).toHaveLength(1);
  });
});

describe('indented', () => {
  it('joins lines starting with a space or a tab to the record above', () => {
    const { out } = scanAll(['head\n  one\n\ttwo\nnext\n'], 'indented');
    expect(out.map((r) => r.text)).toEqual(['head\n  one\n\ttwo', 'next']);
  });
});

describe('bad input', () => {
  it('cuts lines over maxLineBytes and flags them', () => {
    const long = 'E'.repeat(2000);
    const { out, tally } = scanAll([`${long}\nshort\n`], 'none', undefined, 300);
    expect(out[0]?.text).toHaveLength(300);
    expect(out[0]?.truncated).toBe(true);
    expect(out[1]).toMatchObject({ text: 'short', truncated: false, offset: 2001 });
    expect(tally.truncated).toBe(1);
  });

  it('cuts a multi-byte line at a character boundary', () => {
    const { out } = scanAll([`${'任'.repeat(200)}\n`], 'none', undefined, 256);
    expect(Buffer.byteLength(out[0]!.text)).toBeLessThanOrEqual(256);
    expect(out[0]?.text).toBe('任'.repeat(85));
  });

  it('replaces invalid UTF-8, flags the record and keeps offsets in bytes', () => {
    const buf = Buffer.concat([
      Buffer.from('bad '),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(' ERROR\nok ERROR\n'),
    ]);
    const { out, tally } = scanAll([buf], 'none', [/ERROR/]);
    expect(out[0]).toMatchObject({ text: 'bad \uFFFD\uFFFD ERROR', invalid: true });
    expect(out[1]).toMatchObject({ offset: 13, invalid: false });
    expect(tally.invalid).toBe(1);
  });

  it('reads NUL bytes (a copytruncate hole) as line ends', () => {
    const buf = Buffer.concat([Buffer.alloc(50), Buffer.from('ERROR after the hole\n')]);
    const { out, tally } = scanAll([buf], 'none', [/^ERROR/]);
    expect(out).toEqual([expect.objectContaining({ offset: 50, text: 'ERROR after the hole' })]);
    expect(tally.nul).toBe(1);
  });

  it('bounds a joined record at maxLineBytes', () => {
    const lines = ['head', ...Array.from({ length: 100 }, () => `  ${'x'.repeat(50)}`)];
    const { out } = scanAll([`${lines.join('\n')}\nnext\n`], 'indented', undefined, 1000);
    expect(out[0]?.text.length).toBe(1000);
    expect(out[0]).toMatchObject({ lines: 101, truncated: true });
  });
});
