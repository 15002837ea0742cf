import { z } from 'zod';
import { duration } from '../../config/duration.js';

const probeName = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and "-"');

export const httpProbeSchema = z
  .object({
    kind: z.literal('http'),
    name: probeName,
    url: z.url({ protocol: /^https?$/ }),
    method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
    every: duration,
    timeout: duration.default(2000),
    /** Status codes that count as healthy. */
    expectStatus: z.array(z.number().int().min(100).max(599)).min(1).default([200]),
    /** Top-level JSON body fields that must have these values, e.g. { status: healthy }. */
    expectJson: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    labels: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export const probeSchema = z.discriminatedUnion('kind', [httpProbeSchema]);

export type ProbeSpec = z.output<typeof probeSchema>;
export type HttpProbeSpec = z.output<typeof httpProbeSchema>;
