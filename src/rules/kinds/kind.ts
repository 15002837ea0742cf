import type { z } from 'zod';
import type { VigilEvent } from '../../contracts/event.js';
import type { ThresholdValidator } from '../threshold-keys.js';

/** "Long ago", kept as a number: JSON has no -Infinity and series states live in Redis as JSON. */
export const NEVER = -8_640_000_000_000_000;

/** One matching event, as a condition sees it. */
export interface Sample {
  id: string;
  atMs: number;
  ok: boolean | undefined;
  value: number | undefined;
  /** The field a `change` condition watches, as text (undefined: the event does not carry it). */
  field?: string | undefined;
  /** What went wrong, quoted in the alert (probe error, log record, task error_log). */
  evidence?: string | undefined;
}

/** What a condition says about its series at a moment: beyond its threshold, back within it, or no opinion. */
export interface Verdict {
  breach: boolean | undefined;
  /** The measured value (p99, the ratio, events in the window, seconds silent …). */
  value: number;
  /** Next moment the verdict can change with no new event (a window draining, a silence growing). */
  changesAt?: number | undefined;
  /** When the breach began, when the kind knows better than "now" (the first failure of a run). */
  since?: number | undefined;
  /** Words the summary adds: what changed into what. */
  note?: string | undefined;
}

/** Fields every windowed kind has: how long a breach must last, how long a firing one outlives a clear. */
export interface Timing {
  for: number;
  keepFiringFor: number;
}

/**
 * A condition kind: everything about it lives in its file — the rule-file schema, the numbers the
 * thresholds table may tune, how samples are kept and judged, and how its alert reads.
 * `S` is the kind's state per series, kept in Redis as JSON, so it must stay small and bounded.
 */
export interface ConditionKind<C extends { kind: string }, S> {
  kind: C['kind'];
  schema: z.ZodType<C, unknown>;
  /** Condition fields the thresholds table may tune, with what each may be. */
  keys: Readonly<Record<string, ThresholdValidator>>;
  init(condition: C, nowMs: number): S;
  /** Takes one sample in (in any order); says when it came too late to count. */
  add(state: S, sample: Sample, condition: C, nowMs: number): 'ok' | 'too-late';
  evaluate(state: S, condition: C, nowMs: number): Verdict;
  /** One line for the alert: "p99 latency 1.42 s > 1 s over 5m". */
  summary(condition: C, verdict: Verdict, subject: string): string;
  /** Hysteresis and delay of the alert; consecutive counts observations instead. */
  timing(condition: C): Timing;
  /** The text of the event field a `change` condition watches. */
  pick?(condition: C, event: VigilEvent): string | undefined;
  /**
   * Where the series state lives in production: `runs` is the consecutive kind's own Lua (it orders
   * observations that arrive out of order across agents); `window` is the generic JSON state.
   */
  store: 'runs' | 'window';
}

/** The shape the registry keeps: conditions and states are each kind's own. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the registry erases each kind's own types; every call site goes through the kind that made the value
export type AnyKind = ConditionKind<any, any>;
