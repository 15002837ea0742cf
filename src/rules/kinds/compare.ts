import { z } from 'zod';

export const comparators = ['>', '>=', '<', '<=', '==', '!='] as const;
export type Comparator = (typeof comparators)[number];

export const comparator = z.enum(comparators);

export function compare(value: number, op: Comparator, limit: number): boolean {
  switch (op) {
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
    case '==':
      return value === limit;
    case '!=':
      return value !== limit;
  }
}

/** A number for people: 1.42, 0.05, 1200 — three significant digits, no trailing zeros. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(3)));
}

/** A value with its unit; "%" and "s" stick to the number the way people write them. */
export function withUnit(value: number, unit: string | undefined): string {
  if (!unit) return formatNumber(value);
  if (unit === 'ms' && Math.abs(value) >= 1000) return `${formatNumber(value / 1000)} s`;
  return unit === '%' ? `${formatNumber(value)} %` : `${formatNumber(value)} ${unit}`;
}
