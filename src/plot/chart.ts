import type { Point, ReplayResult } from '../rules/replay.js';
import { drawText, textWidth } from './font.js';
import { Canvas, encodePng } from './png.js';

type Rgb = readonly [number, number, number];
export const COLORS = {
  axis: [40, 40, 40] as Rgb,
  value: [30, 90, 200] as Rgb,
  threshold: [230, 140, 0] as Rgb,
  fire: [210, 30, 30] as Rgb,
  resolve: [20, 150, 60] as Rgb,
};
export const SIZE = { width: 800, height: 360, left: 70, right: 20, top: 20, bottom: 40 };

/** The number a kind's measured value is compared with, where it has one. */
export function thresholdOf(condition: { kind: string }): number | undefined {
  const c = condition as Record<string, unknown>;
  if (condition.kind === 'absence') return (c.after as number) / 1000;
  const v = c.kind === 'consecutive' || c.kind === 'rate' ? c.count : c.value;
  return typeof v === 'number' ? v : undefined;
}

/** The series worth drawing: the one that fired and resolved most, else the one judged most. */
function busiest(result: ReplayResult): string | undefined {
  const score = new Map<string, number>();
  for (const p of result.points) score.set(p.fingerprint, (score.get(p.fingerprint) ?? 0) + 1);
  for (const t of result.transitions) score.set(t.fingerprint, (score.get(t.fingerprint) ?? 0) + 1e9);
  return [...score].sort((a, b) => b[1] - a[1])[0]?.[0];
}

const short = (n: number) =>
  Math.abs(n) >= 100 || Number.isInteger(n) ? String(Math.round(n)) : n.toFixed(2);
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/**
 * Draws one series' measured value over virtual time (a step line) against the rule's threshold,
 * with a red mark at each fire and a green one at each resolve; times are UTC.
 */
export function plotReplay(
  condition: { kind: string },
  result: ReplayResult,
): { png: Buffer; series: string } {
  const fp = busiest(result) ?? '(no series)';
  const points: Point[] = result.points.filter((p) => p.fingerprint === fp);
  const limit = thresholdOf(condition);
  const { width, height, left, right, top, bottom } = SIZE;
  const canvas = new Canvas(width, height);
  const t0 = result.startMs;
  const t1 = Math.max(result.endMs, t0 + 1000);
  const top$ = Math.max(1, limit ?? 0, ...points.map((p) => p.value)) * 1.1;
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * (width - left - right);
  const y = (v: number) => height - bottom - (v / top$) * (height - top - bottom);
  canvas.line(left, top, left, height - bottom, COLORS.axis);
  canvas.line(left, height - bottom, width - right, height - bottom, COLORS.axis);
  for (const v of [0, top$ / 2, top$ / 1.1]) {
    canvas.line(left - 5, y(v), left, y(v), COLORS.axis);
    drawText(canvas, short(v), left - 8 - textWidth(short(v)), y(v) - 5, COLORS.axis);
  }
  drawText(canvas, clock(t0), left, height - bottom + 10, COLORS.axis);
  drawText(canvas, clock(t1), width - right - textWidth(clock(t1)), height - bottom + 10, COLORS.axis);
  for (const t of result.transitions.filter((t) => t.fingerprint === fp)) {
    const color = t.type === 'fire' ? COLORS.fire : COLORS.resolve;
    for (let py = top; py < height - bottom; py += 4) canvas.line(x(t.atMs), py, x(t.atMs), py + 1, color);
    canvas.rect(x(t.atMs) - 3, top - 6, 7, 7, color);
  }
  let prev: Point | undefined;
  for (const p of points) {
    if (prev) {
      canvas.line(x(prev.atMs), y(prev.value), x(p.atMs), y(prev.value), COLORS.value);
      canvas.line(x(p.atMs), y(prev.value), x(p.atMs), y(p.value), COLORS.value);
    }
    prev = p;
  }
  if (prev) canvas.line(x(prev.atMs), y(prev.value), x(t1), y(prev.value), COLORS.value);
  // Drawn last, two pixels thick: a value sitting on the threshold must not hide it.
  if (limit !== undefined)
    for (const dy of [0, 1])
      canvas.line(left + 1, y(limit) + dy, width - right, y(limit) + dy, COLORS.threshold);
  return { png: encodePng(canvas), series: fp };
}
