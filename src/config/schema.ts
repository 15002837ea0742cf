import { z } from 'zod';
import { duration } from './duration.js';
import { integer } from './fields.js';

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

export const configSchema = z
  .object({
    /** Identifies this agent in logs and audit rows; defaults to hostname-pid. */
    agentId: z.string().min(1).optional(),
    database: z
      .object({
        url: url(['postgres:', 'postgresql:']),
        /** Schema holding Vigil's tables; tests use one schema each. */
        schema: z
          .string()
          .regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier')
          .default('public'),
        poolSize: integer(1, 100).default(10),
      })
      .strict(),
    redis: z
      .object({
        url: url(['redis:', 'rediss:']),
        /** BullMQ key prefix: agents sharing a prefix share work; tests use their own. */
        prefix: z
          .string()
          .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-" only')
          .default('vigil'),
      })
      .strict(),
    http: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: integer(0, 65535).default(8470),
        /** Bearer token for the JSON API; unset disables the API routes (never open by default). */
        apiToken: z.string().min(16, 'must be at least 16 characters').optional(),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8470 }),
    slack: z
      .object({
        token: z.string().min(1),
        signingSecret: z.string().min(1).optional(),
        /** Base URL of the Slack Web API; point it at a local emulator in tests and the demo. */
        apiUrl: url(['http:', 'https:']).default('https://slack.com/api/'),
        channel: z.string().min(1),
        timeout: duration.default(5000),
      })
      .strict()
      .optional(),
    email: z
      .object({
        smtpUrl: url(['smtp:', 'smtps:']),
        from: z.string().min(3),
        to: z.array(z.string().min(3)).min(1),
        timeout: duration.default(10_000),
      })
      .strict()
      .optional(),
    rules: z
      .object({
        dir: z.string().default('rules'),
        /** Values for ${NAME} in rule files, looked up before the environment. */
        vars: z.record(z.string(), z.string()).default({}),
      })
      .strict()
      .default({ dir: 'rules', vars: {} }),
    events: z
      .object({
        batchSize: integer(1, 5000).default(200),
        linger: duration.default(2),
        concurrency: integer(1, 64).default(4),
        /** Events dated further ahead of this agent's clock are rejected (reason "future"). */
        maxFutureSkew: duration.default(60_000),
        /** Batches being written to Redis at once; past that, events wait in the buffer. */
        maxInFlight: integer(1, 64).default(4),
        /** Events waiting for a batch; past that, sources wait (bounded memory while Redis is away). */
        maxBuffered: integer(1, 1_000_000).default(10_000),
      })
      .strict()
      .default({
        batchSize: 200,
        linger: 2,
        concurrency: 4,
        maxFutureSkew: 60_000,
        maxInFlight: 4,
        maxBuffered: 10_000,
      }),
    notify: z
      .object({
        concurrency: integer(1, 64).default(8),
        attempts: integer(1, 100).default(8),
        backoff: duration.default(1000),
      })
      .strict()
      .default({ concurrency: 8, attempts: 8, backoff: 1000 }),
    /** Public base URL of this agent's HTTP server, used in links inside notifications. */
    publicUrl: url(['http:', 'https:']).optional(),
    shutdown: z
      .object({ deadline: duration.default(10_000) })
      .strict()
      .default({ deadline: 10_000 }),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .default({ level: 'info' }),
  })
  .strict();

export type VigilConfigInput = z.input<typeof configSchema>;
export type VigilConfig = Readonly<z.output<typeof configSchema>>;
