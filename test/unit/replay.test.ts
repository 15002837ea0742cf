import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { COLORS, plotReplay, SIZE } from '../../src/plot/chart.js';
import { PNG_SIGNATURE } from '../../src/plot/png.js';
import { replay, type Timed } from '../../src/rules/replay.js';
import { overridden, ReplayRefusal } from '../../src/rules/replay-set.js';
import { ruleSchema, type Rule } from '../../src/rules/schema.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const rule = (condition: object, extra: object = {}): Rule =>
  ruleSchema.parse({
    id: 'r',
    title: 'r',
    severity: 'high',
    ackSla: '5m',
    match: { name: 'm' },
    condition,
    ...extra,
  });
const ev = (sec: number, fields: object = {}): Timed => ({
  atMs: T0 + sec * 1000,
  event: {
    id: `e${sec}`,
    source: 'manual',
    name: 'm',
    at: new Date(T0 + sec * 1000).toISOString(),
    host: 'h',
    labels: {},
    ...fields,
  },
});

describe('replay on a virtual clock', () => {
  it('fires a `for` at its deadline between two events, and resolves at the clearing event', () => {
    const r = rule({ kind: 'threshold', value: 80, for: '5m' });
    const events = [0, 120, 240, 360].map((s) => ev(s, { value: 90 })).concat(ev(480, { value: 10 }));
    const out = replay(r, r.condition, events);
    expect(out.transitions.map((t) => [t.type, (t.atMs - T0) / 1000])).toEqual([
      ['fire', 300],
      ['resolve', 480],
    ]);
    expect(out.incidents).toEqual([
      { fingerprint: 'r{}', fromMs: T0 + 300_000, forMs: 180_000, open: false },
    ]);
  });

  it('keeps one series per groupBy value, and counts an incident still firing at the end up to it', () => {
    const r = rule({ kind: 'consecutive', count: 2 }, { groupBy: ['host'] });
    const on = (sec: number, host: string, ok: boolean) =>
      ev(sec, { labels: { host }, ok, id: `${host}${sec}` });
    const out = replay(r, r.condition, [
      on(0, 'a', false),
      on(1, 'b', false),
      on(2, 'a', false),
      on(10, 'b', true),
    ]);
    expect(out.transitions.map((t) => `${t.type} ${t.fingerprint}`)).toEqual(['fire r{host="a"}']);
    expect(out.incidents[0]).toMatchObject({ open: true, forMs: 8000 });
  });

  it('drains to `endMs`: a window empties and resolves after the last event', () => {
    const r = rule({ kind: 'rate', count: 2, window: '1m' });
    const out = replay(r, r.condition, [ev(0), ev(1), ev(2)], { endMs: T0 + 600_000 });
    expect(out.transitions.map((t) => t.type)).toEqual(['fire', 'resolve']);
    expect((out.transitions[1]?.atMs ?? 0) - T0).toBeGreaterThan(60_000);
  });

  it('refuses overrides with the reason: unknown key, bad value, not key=value; parses "5m"', () => {
    const r = rule({ kind: 'threshold', value: 80, for: '5m' });
    expect(overridden(r, ['for=2m', 'value=90'])).toMatchObject({ for: 120_000, value: 90 });
    expect(() => overridden(r, ['for=soon', 'count=3', 'value'])).toThrow(ReplayRefusal);
    try {
      overridden(r, ['for=soon', 'count=3', 'value']);
    } catch (err) {
      expect((err as ReplayRefusal).problems).toEqual([
        'for must be a duration (e.g. "5m", "0s"), got "soon"',
        expect.stringContaining('unknown threshold key "count" for a threshold rule'),
        '"value": expected key=value (e.g. count=5)',
      ]);
    }
  });
});

/** The image's RGB rows, from a PNG this encoder wrote (one IDAT, filter byte 0 on each row). */
function decode(png: Buffer) {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  expect(png.readUInt32BE(8)).toBe(13);
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const idatLength = png.readUInt32BE(33);
  expect(png.subarray(37, 41).toString('ascii')).toBe('IDAT');
  const raw = inflateSync(png.subarray(41, 41 + idatLength));
  const pixel = (x: number, y: number) => {
    const i = y * (width * 3 + 1) + 1 + x * 3;
    return [raw[i], raw[i + 1], raw[i + 2]];
  };
  return { width, height, pixel };
}

describe('--plot', () => {
  it('writes a valid PNG whose pixels show the threshold line, the value and the fire mark', () => {
    const r = rule({ kind: 'threshold', value: 80, for: '1m' });
    const events = [
      ev(0, { value: 20 }),
      ev(60, { value: 95 }),
      ev(180, { value: 95 }),
      ev(300, { value: 20 }),
    ];
    const { png, series } = plotReplay(r.condition, replay(r, r.condition, events));
    expect(series).toBe('r{}');
    const img = decode(png);
    expect([img.width, img.height]).toEqual([SIZE.width, SIZE.height]);
    const count = (rgb: readonly number[], y: number) =>
      Array.from({ length: img.width }, (_, x) => img.pixel(x, y)).filter((p) => p.join() === rgb.join())
        .length;
    const rows = Array.from({ length: img.height }, (_, y) => count(COLORS.threshold, y));
    // A horizontal line across most of the plot, two pixels thick.
    expect(rows.filter((n) => n > (SIZE.width - SIZE.left - SIZE.right) * 0.5)).toHaveLength(2);
    const all = (rgb: readonly number[]) => rows.reduce((sum, _, y) => sum + count(rgb, y), 0);
    expect(all(COLORS.value)).toBeGreaterThan(100);
    expect(all(COLORS.fire)).toBeGreaterThan(20);
    expect(all(COLORS.resolve)).toBeGreaterThan(20);
  });
});
