import { z } from 'zod';

/**
 * An integer field that also takes its digits as text, so `port: ${PORT:-8470}` works: interpolation
 * always yields a string, and the schema, which knows the field is a number, converts it.
 */
export const integer = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v),
    z.number().int().min(min).max(max),
  );
