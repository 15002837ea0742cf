import { z } from 'zod';
import { duration } from '../../config/duration.js';

/** What one probe run observed: a failed one says why in `data.error`. */
export interface ProbeOutcome {
  ok: boolean;
  value: number;
  data: Record<string, unknown>;
}

export const probeName = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and "-"');

/**
 * A number that also takes its digits as text, so `max: ${CPU_MAX:-80}` works (interpolation always
 * yields a string).
 */
export const number = z.preprocess(
  (v) => (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v),
  z.number().finite(),
);

/** Fields every probe kind has. */
export const probeBase = {
  name: probeName,
  every: duration,
  /** A run that has not finished by then is a failed observation (ok: false, data.error says why). */
  timeout: duration.default(2000),
  labels: z.record(z.string(), z.string()).default({}),
};

/** A failed observation; `error` says why (the rule engine quotes it in the incident summary). */
export function failed(error: string, value = 0, data: Record<string, unknown> = {}): ProbeOutcome {
  return { ok: false, value, data: { ...data, error } };
}

/** ok unless the value is above `max`; the reason names both. */
export function underMax(
  what: string,
  value: number,
  max: number | undefined,
  data: Record<string, unknown>,
): ProbeOutcome {
  if (max !== undefined && value > max) return failed(`${what} ${round(value)} is above ${max}`, value, data);
  return { ok: true, value, data };
}

export const round = (n: number) => Math.round(n * 100) / 100;
