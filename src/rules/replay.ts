import { formatDuration } from '../config/duration.js';
import type { VigilEvent } from '../contracts/event.js';
import { sampleOf, windowSummary } from './conditions.js';
import { summaryOf } from './evidence.js';
import { matches, seriesOf } from './fingerprint.js';
import { kindOf } from './kinds/registry.js';
import { ruleMatch, type Rule } from './schema.js';
import { advance, newSeries, type WindowSeries } from './window-series.js';

/** One recorded event and its time (already parsed, so the replay never reads `at` again). */
export interface Timed {
  event: VigilEvent;
  atMs: number;
}

export interface Transition {
  type: 'fire' | 'resolve';
  atMs: number;
  fingerprint: string;
  summary: string;
}

/** The measured value of a series after each judgement, for plots. */
export interface Point {
  atMs: number;
  fingerprint: string;
  value: number;
  firing: boolean;
}

export interface ReplayResult {
  transitions: Transition[];
  points: Point[];
  /** Events the rule matched (and judged), of all replayed. */
  matched: number;
  /** Samples the kind refused as older than anything it keeps (out-of-order input). */
  tooLate: number;
  /** One entry per fire: how long it stayed firing (to the end of the replay if it never resolved). */
  incidents: Array<{ fingerprint: string; fromMs: number; forMs: number; open: boolean }>;
  startMs: number;
  endMs: number;
}

export interface ReplayOptions {
  /** Virtual time the replay begins (default: the first event's); series with no groupBy are watched from it. */
  startMs?: number;
  /** Virtual time it ends (default: the last event's); deadlines up to it are judged. */
  endMs?: number;
}

/** A kind whose deadlines never stop coming would loop for ever; no real one comes near this. */
const MAX_TICKS = 1_000_000;

interface Live {
  series: WindowSeries;
  deadline: number | undefined;
  last: VigilEvent | undefined;
}

/**
 * Replays events (in time order) through the rule's real condition kind on a virtual clock: each
 * event is judged at its own time, and every deadline a series asks for (a `for` ending, a window
 * draining, a silence growing) is judged at that moment before the next event. Pure: no Redis, no
 * waiting; the same `advance()` production runs between a read and a checked write.
 */
export function replay(
  rule: Rule,
  condition: { kind: string },
  events: Iterable<Timed>,
  opts: ReplayOptions = {},
): ReplayResult {
  const kind = kindOf(condition);
  const m = ruleMatch(rule);
  const all = new Map<string, Live>();
  const out: ReplayResult = {
    transitions: [],
    points: [],
    matched: 0,
    tooLate: 0,
    incidents: [],
    startMs: opts.startMs ?? Number.NaN,
    endMs: opts.endMs ?? Number.NaN,
  };
  let ticks = 0;

  const judge = (live: Live, samples: ReturnType<typeof sampleOf>[], now: number) => {
    const { series } = live;
    const before = { fires: series.life.fires, resolves: series.life.resolves };
    const judged = advance(series, kind, condition, samples, now);
    live.deadline = judged.deadline;
    out.tooLate += judged.tooLate;
    const value = kind.store === 'runs' ? judged.verdict.value : series.life.value;
    out.points.push({ atMs: now, fingerprint: series.fp, value, firing: series.life.firing });
    const summary = (type: 'fire' | 'resolve') => {
      if (kind.store !== 'runs' && type === 'resolve') {
        // The kind's words describe a breach; a resolve says the breach is over and how long it was.
        const open = out.incidents.findLast((i) => i.fingerprint === series.fp && i.open);
        const lasted = open
          ? ` after ${formatDuration(Math.round((now - open.fromMs) / 1000) * 1000)} firing`
          : '';
        return `condition cleared${lasted}`;
      }
      if (kind.store !== 'runs' || !live.last) return windowSummary(rule, condition, series, judged.verdict);
      if (type === 'fire') return summaryOf(judged.verdict.value, live.last);
      // The Lua's resolve carries no words of its own; say what resolved it.
      const { n } = series.st as { n: number };
      return `${n} passing observation${n === 1 ? '' : 's'} of ${live.last.name} in a row`;
    };
    if (series.life.fires > before.fires) {
      out.transitions.push({ type: 'fire', atMs: now, fingerprint: series.fp, summary: summary('fire') });
      out.incidents.push({ fingerprint: series.fp, fromMs: now, forMs: 0, open: true });
    }
    if (series.life.resolves > before.resolves) {
      out.transitions.push({
        type: 'resolve',
        atMs: now,
        fingerprint: series.fp,
        summary: summary('resolve'),
      });
      const open = out.incidents.findLast((i) => i.fingerprint === series.fp && i.open);
      if (open) Object.assign(open, { forMs: now - open.fromMs, open: false });
    }
  };

  /** Judges every deadline due before `until` (or at it, when `inclusive`), earliest first. */
  const drain = (until: number, inclusive: boolean) => {
    for (;;) {
      let next: Live | undefined;
      for (const live of all.values())
        if (live.deadline !== undefined && (next === undefined || live.deadline < (next.deadline as number)))
          next = live;
      const at = next?.deadline;
      if (next === undefined || at === undefined || at > until || (!inclusive && at === until)) return;
      if (++ticks > MAX_TICKS) throw new Error(`replay: more than ${MAX_TICKS} deadlines judged`);
      judge(next, [], at);
    }
  };

  const open = (event: VigilEvent, at: number): Live => {
    const { fingerprint, labels } = seriesOf(rule, event);
    let live = all.get(fingerprint);
    if (!live) {
      live = {
        series: newSeries(kind, condition, { rule: rule.id, fingerprint, labels }, at),
        deadline: undefined,
        last: undefined,
      };
      all.set(fingerprint, live);
    }
    return live;
  };

  const watchFrom = (at: number) => {
    // As the engine's watchUnseen: a heartbeat with no groupBy that never comes fires too.
    if (condition.kind !== 'absence' || rule.groupBy.length > 0) return;
    judge(open({ labels: {} } as unknown as VigilEvent, at), [], at);
  };
  if (opts.startMs !== undefined) watchFrom(opts.startMs);

  for (const { event, atMs } of events) {
    if (Number.isNaN(out.startMs)) {
      out.startMs = atMs;
      watchFrom(atMs);
    }
    drain(atMs, false);
    if (opts.endMs === undefined) out.endMs = atMs;
    if (event.name !== m.name || !matches(rule, event, m.source, m.labels)) continue;
    if (kind.store === 'runs' && event.ok === undefined) continue;
    out.matched++;
    const live = open(event, atMs);
    live.last = event;
    judge(live, [sampleOf(event, atMs, kind, condition)], atMs);
  }
  if (Number.isNaN(out.startMs)) out.startMs = out.endMs = opts.endMs ?? 0;
  if (Number.isNaN(out.endMs)) out.endMs = out.startMs;
  drain(out.endMs, true);
  for (const i of out.incidents) if (i.open) i.forMs = out.endMs - i.fromMs;
  return out;
}
