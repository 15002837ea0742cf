import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { duration, formatDuration } from '../../config/duration.js';
import { envKeyPattern } from '../../config/env-file.js';
import { integer } from '../../config/fields.js';
import { commandProbeSchema } from './command.js';
import { probeBase } from './fields.js';
import { processProbeSchema } from './process.js';
import { sqlProbeSchema } from './sql.js';
import { systemProbeSchema } from './system.js';
import { tcpProbeSchema } from './tcp.js';

/** The `probes` source: runs the probes the rules define, one run per interval across all agents. */
export const probesSourceSchema = z
  .object({
    kind: z.literal('probes'),
    name: z.string().min(1).default('probes'),
    /** Probe runs at once per agent: probes mostly wait on the network, so this is high. */
    concurrency: integer(1, 10_000).default(100),
    /** How often probe schedules are checked and re-created if Redis lost them (and on every reconnect). */
    reassertEvery: duration.refine((ms) => ms > 0, 'must be more than 0').default(30_000),
  })
  .strict();

export type ProbesSourceSpec = z.output<typeof probesSourceSchema>;

export const httpProbeSchema = z
  .object({
    kind: z.literal('http'),
    ...probeBase,
    url: z.url({ protocol: /^https?$/ }),
    method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
    /** Status codes that count as healthy. */
    expectStatus: z.array(z.number().int().min(100).max(599)).min(1).default([200]),
    /** Top-level JSON body fields that must have these values, e.g. { status: healthy }. */
    expectJson: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    /** Reading stops past this many bytes, so a runaway endpoint cannot fill the agent's memory. */
    maxBodyBytes: integer(1, 64 * 1024 * 1024).default(64 * 1024),
    /** Off by default: a 3xx then counts as its own status, so a moved endpoint is noticed. */
    followRedirects: z.boolean().default(false),
    /**
     * Follow a service that moves: at each run the URL's port is replaced by the port `key` holds in
     * `file` (a dotenv file such as HELIX's .env, which restart-service rewrites when it moves the
     * service). A missing or invalid value leaves the URL's own port, noted in the observation.
     * The file is read by whichever agent runs the probe, so it must be at that path on each.
     */
    portFromEnv: z
      .object({
        file: z.string().refine(isAbsolute, 'an absolute path'),
        key: z.string().regex(envKeyPattern, 'an environment variable name').default('API_PORT'),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * Probes any agent can run, one run per interval for the cluster (the `probes` source). Jobs carry
 * their probe's spec, and a worker checks it with this before running it (the spec may come from
 * another agent's rule set).
 */
export const clusterProbeSchema = z.discriminatedUnion('kind', [
  httpProbeSchema,
  tcpProbeSchema,
  sqlProbeSchema,
  commandProbeSchema,
]);

/** Probes of the host an agent runs on, run by that agent on its own timer (`host-probes`). */
export const hostProbeSchema = z.discriminatedUnion('kind', [processProbeSchema, systemProbeSchema]);
export const clusterProbeKinds = clusterProbeSchema.options.map((o) => o.shape.kind.value);
export const hostProbeKinds = hostProbeSchema.options.map((o) => o.shape.kind.value);

const runnableProbeSchema = z.discriminatedUnion('kind', [
  ...clusterProbeSchema.options,
  ...hostProbeSchema.options,
]);

/**
 * A probe as a rule defines it: runnable, with an interval, and a timeout that ends before the next
 * run is due (otherwise a hanging target makes runs pile up behind each other).
 */
export const probeSchema = runnableProbeSchema.superRefine((probe, ctx) => {
  if (probe.every <= 0) {
    ctx.addIssue({ code: 'custom', path: ['every'], message: 'must be more than 0' });
  } else if (probe.timeout >= probe.every) {
    ctx.addIssue({
      code: 'custom',
      path: ['timeout'],
      message: `${formatDuration(probe.timeout)} must be less than every (${formatDuration(probe.every)})`,
    });
  }
});

export type ProbeSpec = z.output<typeof probeSchema>;
export type ClusterProbeSpec = z.output<typeof clusterProbeSchema>;
export type HostProbeSpec = z.output<typeof hostProbeSchema>;
export type HttpProbeSpec = z.output<typeof httpProbeSchema>;

export const isHostProbe = (p: ProbeSpec): p is HostProbeSpec =>
  (hostProbeKinds as string[]).includes(p.kind);

/** The `host-probes` source: this host's process and system probes, on the agent's own timers. */
export const hostProbesSourceSchema = z
  .object({
    kind: z.literal('host-probes'),
    name: z.string().min(1).default('host-probes'),
  })
  .strict();

export type HostProbesSourceSpec = z.output<typeof hostProbesSourceSchema>;
