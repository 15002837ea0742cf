import { z } from 'zod';
import { duration } from './duration.js';
import { integer } from './fields.js';
import { sourcesSchema } from '../sources/schema.js';

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

/** Messages per second a channel may send (0: no limit) and how many may go at once after a pause. */
const rateLimit = z
  .object({ perSecond: z.number().min(0).max(10_000), burst: integer(1, 10_000).default(1) })
  .strict();

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
        /** Slack allows about one message per second per channel, with short bursts. */
        rateLimit: rateLimit.default({ perSecond: 1, burst: 4 }),
      })
      .strict()
      .optional(),
    email: z
      .object({
        smtpUrl: url(['smtp:', 'smtps:']),
        from: z.string().min(3),
        to: z.array(z.string().min(3)).min(1),
        timeout: duration.default(10_000),
        rateLimit: rateLimit.default({ perSecond: 0, burst: 1 }),
      })
      .strict()
      .optional(),
    rules: z
      .object({
        dir: z.string().default('rules'),
        /** Values for ${NAME} in rule files, looked up before the environment. */
        vars: z.record(z.string(), z.string()).default({}),
        /** The only environment variables rule files may read; others are refused (see loader). */
        envPrefix: z
          .string()
          .regex(/^[A-Z][A-Z0-9_]*_$/, 'upper-case letters, digits and "_", ending in "_"')
          .default('VIGIL_RULE_'),
        /**
         * How often the cluster looks at series that can change with no event (a window draining, a
         * heartbeat missing): one agent claims each tick in Redis, so once per cluster, not once per agent.
         */
        tickEvery: duration.refine((ms) => ms >= 100, 'at least 100ms').default(1000),
      })
      .strict()
      .prefault({}),
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
      .prefault({}),
    notify: z
      .object({
        /** Sends in flight at once per channel and agent. */
        concurrency: integer(1, 256).default(8),
        /** First wait after a failed send; doubles per attempt, with jitter, up to maxBackoff. */
        backoff: duration.default(1000),
        maxBackoff: duration.default(60_000),
        /** How long an owed notification is retried: until its incident has been resolved this long. */
        retryFor: duration.default(86_400_000),
        /** How often the sweeper re-queues what is owed, escalates what is due and checks failed channels. */
        sweepEvery: duration.default(5000),
        /** A job's hold on the rows it sends; a lapsed lease (the job was lost) is taken by the sweeper. */
        leaseFor: duration.default(30_000),
        /** Owed longer than this: the other channels carry it too, and /healthz says degraded. */
        fallbackAfter: duration.default(300_000),
        /** How often a failed channel is checked again (Slack auth.test, SMTP verify). */
        recheckEvery: duration.default(60_000),
        /** More than `threshold` incidents opening within `window` on one channel: the rest go in a digest. 0 turns it off. */
        digest: z
          .object({ threshold: integer(0, 100_000).default(10), window: duration.default(60_000) })
          .strict()
          .prefault({}),
      })
      .strict()
      // prefault: an absent section is parsed as {}, so each field's own default applies (written once).
      .prefault({}),
    /**
     * A synthetic event sent through the events queue, the rules and a dry-run delivery on every
     * channel queue; when none has come back for `maxAge`, the pipeline is stuck (/healthz, /metrics).
     */
    canary: z
      .object({ every: duration.default(30_000), maxAge: duration.default(120_000) })
      .strict()
      .prefault({}),
    /** Called every `every` only while the agent is healthy: a dead-man's switch notices a stuck Vigil. */
    heartbeat: z
      .object({
        url: url(['http:', 'https:']),
        every: duration.default(30_000),
        timeout: duration.default(5000),
      })
      .strict()
      .optional(),
    /** Where sources keep what must survive a restart (log read positions); relative: next to the config file. */
    stateDir: z.string().min(1).default('.vigil/state'),
    /** Listeners, tails and timers that produce events (see src/sources). */
    sources: sourcesSchema,
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
