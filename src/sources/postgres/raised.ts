import { z } from 'zod';
import type { VigilEvent } from '../../contracts/event.js';

/**
 * What an application raises, by outbox row or NOTIFY payload: the parts of an event it may choose.
 * SQL NULL stands for "not given" in every optional field.
 */
export const raisedSchema = z.object({
  name: z.string().min(1).max(200),
  labels: z.record(z.string(), z.string()).nullish(),
  ok: z.boolean().nullish(),
  value: z.number().finite().nullish(),
  data: z.record(z.string(), z.unknown()).nullish(),
});

export type Raised = z.output<typeof raisedSchema>;

export type Checked = { ok: true; raised: Raised } | { ok: false; problems: string[] };

/** Checks one raised item (other fields are ignored); the problems name each field and its fault. */
export function checkRaised(item: unknown): Checked {
  const parsed = raisedSchema.safeParse(item);
  if (parsed.success) return { ok: true, raised: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((i) => `${i.path.join('.') || '(row)'}: ${i.message}`),
  };
}

/** The event for a checked item; the source's own labels come first, so the item's can refine them. */
export function toEvent(
  raised: Raised,
  where: { id: string; at: Date; host: string; labels: Record<string, string> },
): VigilEvent {
  return {
    id: where.id,
    source: 'pg',
    name: raised.name,
    at: where.at.toISOString(),
    host: where.host,
    labels: { ...where.labels, ...raised.labels },
    ...(raised.value == null ? {} : { value: raised.value }),
    ...(raised.ok == null ? {} : { ok: raised.ok }),
    ...(raised.data == null ? {} : { data: raised.data }),
  };
}
