import { z } from 'zod';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "250ms", "5s", "5m", "1h", "1d" (or a bare number of milliseconds). */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (units[m[2] as string] as number));
}

const durationText = /^\s*\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)\s*$/;

/**
 * A duration field: accepts "5s"-style text or milliseconds, yields milliseconds. The pattern is in
 * the schema (not only in the transform) so the generated JSON Schema tells editors what is valid.
 */
export const duration = z
  .union([
    z.string().regex(durationText, {
      error: (issue) => `invalid duration ${JSON.stringify(issue.input)}: use e.g. "250ms", "5s", "5m", "1h"`,
    }),
    z.number().min(0),
  ])
  .describe('a duration: "250ms", "5s", "5m", "1h", "1d", or milliseconds')
  .transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `invalid duration ${JSON.stringify(value)}: use e.g. "250ms", "5s", "5m", "1h"`,
      });
      return z.NEVER;
    }
    return ms;
  });

export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
