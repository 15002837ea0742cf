import { z } from 'zod';
import { logSourceSchema } from './logs/schema.js';
import { hostProbesSourceSchema, probesSourceSchema } from './probes/schema.js';
import { pgNotifySourceSchema, pgOutboxSourceSchema } from './postgres/schema.js';

/**
 * `sources:` in vigil.yaml: a list of `{ kind, name, … }`. Every kind has its own fields; names are
 * unique. Absent, the agent runs the probes its rules define (the cluster's and its host's).
 */
export const sourcesSchema = z
  .array(
    z.discriminatedUnion('kind', [
      probesSourceSchema,
      hostProbesSourceSchema,
      logSourceSchema,
      pgOutboxSourceSchema,
      pgNotifySourceSchema,
    ]),
  )
  .superRefine((sources, ctx) => {
    const seen = new Map<string, number>();
    sources.forEach((s, i) => {
      const first = seen.get(s.name);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: `"${s.name}" is already the name of source ${first} (names must be unique)`,
        });
      else seen.set(s.name, i);
    });
  })
  .prefault([{ kind: 'probes' }, { kind: 'host-probes' }]);

export type SourceSpec = z.output<typeof sourcesSchema>[number];
