import { z } from 'zod';
import { logSourceSchema } from './logs/schema.js';
import { probesSourceSchema } from './probes/schema.js';

/**
 * `sources:` in vigil.yaml: a list of `{ kind, name, … }`. Every kind has its own fields; names are
 * unique. Absent, the agent runs the probes its rules define.
 */
export const sourcesSchema = z
  .array(z.discriminatedUnion('kind', [probesSourceSchema, logSourceSchema]))
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
  .prefault([{ kind: 'probes' }]);

export type SourceSpec = z.output<typeof sourcesSchema>[number];
