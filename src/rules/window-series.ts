import { createHash } from 'node:crypto';
import type { AnyKind, Sample, Verdict } from './kinds/kind.js';
import { lifeDeadline, newLife, step, type Life } from './lifecycle.js';

/** Longest evidence an alert quotes from the last matching event. */
const MAX_EVIDENCE = 2000;
/** Batches remembered per series: a retried batch is taken in once, however many events it has. */
const RECENT_BATCHES = 8;

/**
 * One series of a windowed rule, as kept in Redis (JSON). `v` is a version, first in the text, so a
 * writer can check in Lua that nobody wrote since it read.
 */
export interface WindowSeries {
  v: number;
  /** Rule id, fingerprint and labels: the tick acts on a series with no event at hand. */
  r: string;
  fp: string;
  l: Record<string, string>;
  /** The kind whose state `st` is (a rule may change kind under the same id) */
  k: string;
  /** The kind's state, the lifecycle, and what the last failing event said */
  st: unknown;
  life: Life;
  ev?: string | undefined;
  /** Time of the newest event taken in (0: none yet) */
  seen: number;
  /** Digests of the recent batches taken in (their event ids) */
  bd?: string[];
}

export function newSeries(
  kind: AnyKind,
  condition: { kind: string },
  id: { rule: string; fingerprint: string; labels: Record<string, string> },
  nowMs: number,
): WindowSeries {
  return {
    v: 0,
    r: id.rule,
    fp: id.fingerprint,
    l: id.labels,
    k: kind.kind,
    st: kind.init(condition, nowMs),
    life: newLife(),
    seen: 0,
  };
}

export interface Judged {
  verdict: Verdict;
  /** When to look again with no event (undefined: only an event can change it) */
  deadline: number | undefined;
  late: number;
  tooLate: number;
}

/**
 * Takes a batch of samples in and judges the series at `nowMs`. Pure: production runs it between a
 * read and a checked write of Redis, `vigil rules test` on a virtual clock.
 */
export function advance(
  series: WindowSeries,
  kind: AnyKind,
  condition: { kind: string },
  samples: readonly Sample[],
  nowMs: number,
): Judged {
  let late = 0;
  let tooLate = 0;
  if (series.k !== kind.kind) {
    // The rule changed kind: the old state means nothing to the new one; the lifecycle carries on.
    series.k = kind.kind;
    series.st = kind.init(condition, nowMs);
  }
  for (const s of retried(series, samples) ? [] : samples) {
    if (s.atMs < series.seen) late++;
    if (kind.add(series.st, s, condition, nowMs) === 'too-late') tooLate++;
    else if (s.evidence && s.ok !== true && s.atMs >= series.seen)
      series.ev = s.evidence.slice(0, MAX_EVIDENCE);
    series.seen = Math.max(series.seen, s.atMs);
  }
  const verdict: Verdict = kind.evaluate(series.st, condition, nowMs);
  const timing = kind.timing(condition);
  step(series.life, verdict, nowMs, timing);
  series.v++;
  const next = [verdict.changesAt, lifeDeadline(series.life, timing)].filter(
    (t): t is number => t !== undefined && t > nowMs,
  );
  return { verdict, deadline: next.length ? Math.min(...next) : undefined, late, tooLate };
}

/**
 * True when this very batch was taken in before: the events job is retried whole when something
 * after the window write failed, and the kinds' own memory of ids (the last 16) would let a big
 * batch count twice. Remembers the batch otherwise.
 */
function retried(series: WindowSeries, samples: readonly Sample[]): boolean {
  if (samples.length === 0) return false;
  const hash = createHash('sha1');
  for (const s of samples) hash.update(s.id).update('\n');
  const digest = hash.digest('base64').slice(0, 16);
  series.bd ??= [];
  if (series.bd.includes(digest)) return true;
  series.bd = [...series.bd.slice(1 - RECENT_BATCHES), digest];
  return false;
}
