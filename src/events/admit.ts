import { eventSchema, type VigilEvent } from '../contracts/event.js';

export type RejectReason = 'schema' | 'future';

export type Admission =
  | { ok: true; event: VigilEvent; atMs: number }
  | {
      ok: false;
      reason: RejectReason;
      /** What is wrong, for the log: the fields and their problems, or how far ahead it is. */
      detail: Record<string, unknown>;
    };

/**
 * Checks one event of a batch before it may touch a series: its shape (which includes a parseable
 * `at`), and that it is not from the future. One event dated ahead would otherwise pass every real
 * observation after it in event time and decide the series alone (resolve it, or keep it quiet).
 */
export function admit(item: unknown, nowMs: number, maxFutureSkewMs: number): Admission {
  const parsed = eventSchema.safeParse(item);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`);
    return { ok: false, reason: 'schema', detail: { ...identity(item), problems } };
  }
  const event = parsed.data;
  // Valid JSON, but PostgreSQL text and jsonb cannot hold it: one such event would fail its whole batch for ever.
  const nul = nulPath(event, []);
  if (nul !== undefined)
    return {
      ok: false,
      reason: 'schema',
      detail: { ...identity(item), problems: [`${nul || '(event)'}: contains a NUL character (\\u0000)`] },
    };
  const atMs = Date.parse(event.at);
  if (atMs - nowMs > maxFutureSkewMs) {
    return {
      ok: false,
      reason: 'future',
      detail: {
        event: event.id,
        at: event.at,
        aheadMs: atMs - nowMs,
        problems: [
          `at: ${atMs - nowMs} ms ahead of this agent's clock (at most ${maxFutureSkewMs} ms allowed)`,
        ],
      },
    };
  }
  return { ok: true, event, atMs };
}

/** The id and time of something that is not a valid event, as far as it has them. */
function identity(item: unknown): { event?: string; at?: string } {
  if (typeof item !== 'object' || item === null) return {};
  const { id, at } = item as Record<string, unknown>;
  return {
    ...(typeof id === 'string' ? { event: id.slice(0, 512) } : {}),
    ...(typeof at === 'string' ? { at: at.slice(0, 64) } : {}),
  };
}

/** The path of the first string (or key) holding a NUL character, if any. */
function nulPath(value: unknown, path: readonly string[]): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path.join('.') : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [k, v] of Object.entries(value)) {
    if (k.includes('\0')) return [...path, JSON.stringify(k)].join('.');
    const found = nulPath(v, [...path, k]);
    if (found !== undefined) return found;
  }
  return undefined;
}
