import { z } from 'zod';
import { duration, formatDuration, parseDuration } from '../../config/duration.js';
import { integer } from '../../config/fields.js';
import type { ThresholdValidator } from '../threshold-keys.js';

/** `for` (a breach must last this long) and `keepFiringFor` (a firing alert outlives a clear by this). */
export const timingFields = {
  for: duration.default(0),
  keepFiringFor: duration.default(0),
};

/** How the alert names and shows the value: `label: "p99 latency"`, `unit: ms`. */
export const displayFields = {
  label: z.string().min(1).max(80).optional(),
  unit: z.string().min(1).max(10).optional(),
};

/** A positive window. */
export const windowField = duration.refine((ms) => ms >= 1000, 'a window of at least 1s');

/** "5%" or 0.05. */
export const fraction = z.preprocess(
  (v) => (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*%\s*$/.test(v) ? Number(v.replace('%', '')) / 100 : v),
  z.number().min(0).max(1),
);

export const sampleCount = integer(1, 1_000_000_000);

export const anyNumber: ThresholdValidator = {
  ok: (v) => Number.isFinite(v),
  expect: 'a finite number',
};
export const wholeAtLeast1: ThresholdValidator = {
  ok: (v) => Number.isInteger(v) && v >= 1,
  expect: 'a whole number ≥ 1',
};
export const fractionKey: ThresholdValidator = {
  ok: (v) => Number.isFinite(v) && v >= 0 && v <= 1,
  expect: 'a fraction between 0 and 1 (or "5%")',
  parse: (text) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
    return m ? Number(m[1]) / 100 : Number(text);
  },
};
export const percentKey: ThresholdValidator = {
  ok: (v) => Number.isFinite(v) && v > 0 && v <= 100,
  expect: 'a percentile above 0 and at most 100',
};

/** A duration key: the table keeps milliseconds; people write "5m". */
export function durationKey(min: number): ThresholdValidator {
  return {
    ok: (v) => Number.isInteger(v) && v >= min,
    expect:
      min > 0 ? `a duration of at least ${formatDuration(min)} (e.g. "5m")` : 'a duration (e.g. "5m", "0s")',
    parse: (text) => parseDuration(text.trim()) ?? Number.NaN,
    show: (v) => formatDuration(v),
  };
}

export const timingKeys = { for: durationKey(0), keepFiringFor: durationKey(0) };
