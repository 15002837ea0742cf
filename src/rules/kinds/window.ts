/**
 * A sliding window kept as time slices, so memory stays bounded whatever the event rate: at most
 * `slices` buckets, each a few numbers (and, for percentiles, a sparse log-bucketed histogram).
 * Event time decides the bucket; a late event still inside the window counts.
 */
export interface Bucket {
  /** Start of the slice (ms) */
  t: number;
  /** Events, failures (ok: false), events with an ok at all, sum of values */
  n: number;
  f: number;
  o: number;
  s: number;
  /** Histogram: log-bucket index → count ("z" for 0, "n<index>" for negative values) */
  h?: Record<string, number>;
  /** Smallest and largest value in the histogram: the extremes are reported exactly */
  lo?: number;
  hi?: number;
}

export interface WindowState {
  /** Slice width (ms) */
  w: number;
  b: Bucket[];
  /** Ids of the most recent samples: a re-delivered event counts once. */
  ids: string[];
}

/** Slices per window: the window's edge is exact to 1/30 of its length. */
export const SLICES = 30;
const RECENT_IDS = 16;
/** Histogram bins grow by 4 %: a percentile is within 2 % of the true value. */
const GROWTH = 1.04;
const LOG_GROWTH = Math.log(GROWTH);
export const PERCENTILE_ERROR = Math.sqrt(GROWTH) - 1;

const widthOf = (windowMs: number) => Math.max(1, Math.ceil(windowMs / SLICES));

export function emptyWindow(windowMs: number): WindowState {
  return { w: widthOf(windowMs), b: [], ids: [] };
}

/**
 * Re-slices a window tuned to another length since its state was made: the slice width follows the
 * window, so the edge stays within 1/30 of it and the slices stay about 30 (a 1m window tuned to 1h
 * would otherwise keep 1800; a 1h one tuned to 1m would count slices twice as wide as the window).
 * Narrowing cannot split a slice: its content moves to the start of its old slice.
 */
export function fit(ws: WindowState, windowMs: number): void {
  const w = widthOf(windowMs);
  if (ws.w === w) return;
  const merged: Bucket[] = [];
  for (const b of ws.b) {
    const t = Math.floor(b.t / w) * w;
    const last = merged[merged.length - 1];
    if (!last || last.t !== t) merged.push({ ...b, t, ...(b.h ? { h: { ...b.h } } : {}) });
    else merge(last, b);
  }
  ws.w = w;
  ws.b = merged;
}

function merge(into: Bucket, b: Bucket): void {
  into.n += b.n;
  into.f += b.f;
  into.o += b.o;
  into.s += b.s;
  if (!b.h) return;
  into.h ??= {};
  for (const [bin, count] of Object.entries(b.h)) into.h[bin] = (into.h[bin] ?? 0) + count;
  into.lo = Math.min(into.lo ?? Infinity, b.lo ?? Infinity);
  into.hi = Math.max(into.hi ?? -Infinity, b.hi ?? -Infinity);
}

/** True when the sample was already counted (a re-delivery). Remembers it otherwise. */
export function seen(ws: { ids: string[] }, id: string): boolean {
  if (ws.ids.includes(id)) return true;
  ws.ids.push(id);
  if (ws.ids.length > RECENT_IDS) ws.ids.shift();
  return false;
}

export interface Contribution {
  n: number;
  f: number;
  o: number;
  s: number;
  histValue?: number | undefined;
}

/**
 * Adds a contribution at `atMs`. Too late when its slice has already left the window that ends now:
 * it could never count again. Slices of events ahead of this agent's clock are kept (and count once
 * their time comes); `trim` only drops what is behind the window, so the state stays bounded.
 */
export function addTo(
  ws: WindowState,
  atMs: number,
  nowMs: number,
  windowMs: number,
  c: Contribution,
): 'ok' | 'too-late' {
  fit(ws, windowMs);
  const t = Math.floor(atMs / ws.w) * ws.w;
  if (t + ws.w <= nowMs - windowMs) return 'too-late';
  let i = ws.b.length - 1;
  while (i >= 0 && (ws.b[i] as Bucket).t > t) i--;
  let bucket = ws.b[i];
  if (!bucket || bucket.t !== t) {
    bucket = { t, n: 0, f: 0, o: 0, s: 0 };
    ws.b.splice(i + 1, 0, bucket);
  }
  const v = c.histValue;
  merge(bucket, {
    t,
    n: c.n,
    f: c.f,
    o: c.o,
    s: c.s,
    ...(v === undefined ? {} : { h: { [binOf(v)]: 1 }, lo: v, hi: v }),
  });
  trim(ws, nowMs, windowMs);
  return 'ok';
}

/** Drops the slices that ended before the window that ends at `nowMs`. */
export function trim(ws: WindowState, nowMs: number, windowMs: number): void {
  while (ws.b.length > 0 && (ws.b[0] as Bucket).t + ws.w <= nowMs - windowMs) ws.b.shift();
}

export interface Totals {
  n: number;
  f: number;
  o: number;
  s: number;
  /** Histogram bin → count, and the extremes of its values */
  hist: Map<string, number>;
  lo: number;
  hi: number;
}

const counted = (ws: WindowState, b: Bucket, nowMs: number, windowMs: number) =>
  b.t + ws.w > nowMs - windowMs && b.t <= nowMs;

/** What the window ending at `nowMs` holds: slices that overlap (now - window, now]. */
export function totals(ws: WindowState, nowMs: number, windowMs: number): Totals {
  fit(ws, windowMs);
  const out: Totals = { n: 0, f: 0, o: 0, s: 0, hist: new Map(), lo: Infinity, hi: -Infinity };
  for (const b of ws.b) {
    if (!counted(ws, b, nowMs, windowMs)) continue;
    out.n += b.n;
    out.f += b.f;
    out.o += b.o;
    out.s += b.s;
    for (const [bin, count] of Object.entries(b.h ?? {})) out.hist.set(bin, (out.hist.get(bin) ?? 0) + count);
    out.lo = Math.min(out.lo, b.lo ?? Infinity);
    out.hi = Math.max(out.hi, b.hi ?? -Infinity);
  }
  return out;
}

/** When the oldest slice still counted leaves the window (what the window holds can only shrink then). */
export function drainsAt(ws: WindowState, nowMs: number, windowMs: number): number | undefined {
  fit(ws, windowMs);
  const oldest = ws.b.find((b) => counted(ws, b, nowMs, windowMs));
  return oldest ? oldest.t + ws.w + windowMs : undefined;
}

/** When the first slice of events dated ahead of this agent's clock comes into the window. */
export function arrivesAt(ws: WindowState, nowMs: number): number | undefined {
  return ws.b.find((b) => b.t > nowMs)?.t;
}

/** The earliest of some moments, any of them possibly unknown. */
export function earliest(...times: Array<number | undefined>): number | undefined {
  const known = times.filter((t): t is number => t !== undefined);
  return known.length ? Math.min(...known) : undefined;
}

function binOf(value: number): string {
  if (value === 0) return 'z';
  const i = String(Math.floor(Math.log(Math.abs(value)) / LOG_GROWTH));
  return value > 0 ? i : `n${i}`;
}

/** The value a bin stands for: its geometric middle, within PERCENTILE_ERROR of anything in it. */
export function binValue(bin: string): number {
  if (bin === 'z') return 0;
  const negative = bin.startsWith('n');
  const middle = Math.min(Number.MAX_VALUE, GROWTH ** (Number(negative ? bin.slice(1) : bin) + 0.5));
  return negative ? -middle : middle;
}

/**
 * Nearest-rank percentile `p` (0–100] of the window: the smallest value with ≥ p % at or below it.
 * The bin's middle, kept within the values seen, so the first and last rank (and a window of equal
 * values) are exact: p100 of latencies up to 1000 ms is 1000, not 1004.
 */
export function percentileOf(t: Pick<Totals, 'hist' | 'n' | 'lo' | 'hi'>, p: number): number {
  // p * n / 100 in that order, less a hair: 7 % of 100 is rank 7, not ceil(7.000000000000001).
  const rank = Math.max(1, Math.ceil((p * t.n) / 100 - 1e-9));
  if (rank >= t.n) return t.hi;
  if (rank === 1) return t.lo;
  let seenSoFar = 0;
  const bins = [...t.hist.entries()]
    .map(([bin, count]) => ({ value: binValue(bin), count }))
    .sort((a, b) => a.value - b.value);
  for (const { value, count } of bins) {
    seenSoFar += count;
    if (seenSoFar >= rank) return Math.min(t.hi, Math.max(t.lo, value));
  }
  return t.hi;
}
