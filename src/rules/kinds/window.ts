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
  /** Histogram: log-bucket index → count ("z" for values ≤ 0) */
  h?: Record<string, number>;
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

export function emptyWindow(windowMs: number): WindowState {
  return { w: Math.max(1, Math.ceil(windowMs / SLICES)), b: [], ids: [] };
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
 * Adds a contribution at `atMs`. Too late when its slice has already left the window that ends now
 * (or at the newest slice held, if that is later): it could never count again.
 */
export function addTo(
  ws: WindowState,
  atMs: number,
  nowMs: number,
  windowMs: number,
  c: Contribution,
): 'ok' | 'too-late' {
  const t = Math.floor(atMs / ws.w) * ws.w;
  const newest = ws.b[ws.b.length - 1];
  const end = Math.max(nowMs, newest ? newest.t + ws.w : -Infinity);
  if (t + ws.w <= end - windowMs) return 'too-late';
  let i = ws.b.length - 1;
  while (i >= 0 && (ws.b[i] as Bucket).t > t) i--;
  let bucket = ws.b[i];
  if (!bucket || bucket.t !== t) {
    bucket = { t, n: 0, f: 0, o: 0, s: 0 };
    ws.b.splice(i + 1, 0, bucket);
  }
  bucket.n += c.n;
  bucket.f += c.f;
  bucket.o += c.o;
  bucket.s += c.s;
  if (c.histValue !== undefined) {
    const bin = binOf(c.histValue);
    bucket.h ??= {};
    bucket.h[bin] = (bucket.h[bin] ?? 0) + 1;
  }
  trim(ws, end, windowMs);
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
  hist: Map<number, number>;
}

/** What the window ending at `nowMs` holds: slices that overlap (now - window, now]. */
export function totals(ws: WindowState, nowMs: number, windowMs: number): Totals {
  const out: Totals = { n: 0, f: 0, o: 0, s: 0, hist: new Map() };
  for (const b of ws.b) {
    if (b.t + ws.w <= nowMs - windowMs || b.t > nowMs) continue;
    out.n += b.n;
    out.f += b.f;
    out.o += b.o;
    out.s += b.s;
    for (const [bin, count] of Object.entries(b.h ?? {})) {
      const i = bin === 'z' ? -Infinity : Number(bin);
      out.hist.set(i, (out.hist.get(i) ?? 0) + count);
    }
  }
  return out;
}

/** When the oldest slice still counted leaves the window (the window can only drain then). */
export function drainsAt(ws: WindowState, nowMs: number, windowMs: number): number | undefined {
  const oldest = ws.b.find((b) => b.t + ws.w > nowMs - windowMs && b.t <= nowMs);
  return oldest ? oldest.t + ws.w + windowMs : undefined;
}

function binOf(value: number): string {
  return value > 0 ? String(Math.floor(Math.log(value) / LOG_GROWTH)) : 'z';
}

/** Nearest-rank percentile `p` (0–100] of the histogram; the bin's geometric middle. */
export function percentileOf(hist: ReadonlyMap<number, number>, total: number, p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seenSoFar = 0;
  for (const bin of [...hist.keys()].sort((a, b) => a - b)) {
    seenSoFar += hist.get(bin) as number;
    if (seenSoFar >= rank) return bin === -Infinity ? 0 : GROWTH ** (bin + 0.5);
  }
  return 0;
}
