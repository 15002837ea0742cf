import { z } from 'zod';

export const eventSources = ['pg', 'log', 'probe', 'manual'] as const;

/** One shape for everything a source observes. `id` is deterministic where the source allows. */
export const eventSchema = z
  .object({
    id: z.string().min(1).max(512),
    source: z.enum(eventSources),
    name: z.string().min(1).max(200),
    at: z.iso.datetime({ offset: true }),
    host: z.string().max(255),
    labels: z.record(z.string(), z.string()),
    value: z.number().finite().optional(),
    ok: z.boolean().optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type VigilEvent = z.infer<typeof eventSchema>;
