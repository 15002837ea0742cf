import { z } from 'zod';
import { duration } from './duration.js';
import { integer } from './fields.js';
import { sourcesSchema } from '../sources/schema.js';
import { remediationConfigSchema } from '../remediate/schema.js';

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

/** Names of targets and escalation policies: referenced from routes, rules and the CLI. */
export const refName = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, "_" and "-"');

const severityEnum = z.enum(['critical', 'high', 'warning', 'info']);
const oneOrMany = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).min(1)]);

/**
 * Where a message can go: a Slack channel or an email list. `mention` (Slack user group S…, user
 * U…, or "here") is used by escalations only: updates and replies never page anyone.
 */
const targetSchema = z
  .object({
    slack: z.string().min(1).optional(),
    email: z.array(z.string().min(3)).min(1).optional(),
    mention: z.string().min(1).optional(),
  })
  .strict()
  .refine((t) => (t.slack === undefined) !== (t.email === undefined), {
    message: 'a target is either `slack: <channel id>` or `email: [addresses]`',
  });

/** Which incidents a route (or a silence, a maintenance window) applies to; all given fields must match. */
export const incidentMatchSchema = z
  .object({
    severity: oneOrMany(severityEnum).optional(),
    rule: oneOrMany(z.string().min(1)).optional(),
    category: oneOrMany(z.string().min(1)).optional(),
    labels: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const routeSchema = z
  .object({
    match: incidentMatchSchema.default({}),
    /** Target names; `slack` and `email` are the channels' own destinations (slack.channel, email.to). */
    to: z.array(refName).min(1),
    escalation: refName.optional(),
    /** Go on to the next routes too (their targets are added); by default the first match wins. */
    continue: z.boolean().default(false),
  })
  .strict();

const escalationStepSchema = z
  .object({
    /** Wait after the previous step; the first step (and each repeat of it) comes at the rule's ackSla. */
    after: duration.optional(),
    to: z.array(refName).min(1),
  })
  .strict();

const escalationPolicySchema = z
  .object({
    steps: z.array(escalationStepSchema).min(1),
    /** Times the steps run again after the last one while nobody acknowledges (0: once). */
    repeat: integer(0, 100).default(0),
  })
  .strict()
  .superRefine((p, ctx) => {
    p.steps.forEach((s, i) => {
      if (i === 0 && s.after !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['steps', 0, 'after'],
          message: "the first step comes at the rule's ackSla (from the thresholds table); remove `after`",
        });
      if (i > 0 && s.after === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'after'],
          message: 'steps after the first need `after`',
        });
    });
  });

const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** A recurring silence: e.g. every Sunday from 02:00 for 2h, in oncall.timeZone. */
const maintenanceSchema = z
  .object({
    name: refName,
    match: incidentMatchSchema,
    days: z
      .array(z.enum(weekdays))
      .min(1)
      .default([...weekdays]),
    at: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour'),
    for: duration,
    reason: z.string().default(''),
  })
  .strict();

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as "UTC" or "Asia/Shanghai"' },
);

const configSchemaBase = z
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
        /** Signs the acknowledge links in emails (HMAC); without it emails carry no such link. */
        linkSecret: z.string().min(32, 'must be at least 32 characters').optional(),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8470 }),
    slack: z
      .object({
        token: z.string().min(1),
        /** Verifies interactions Slack POSTs to /slack/interactions (buttons); without it they get 401. */
        signingSecret: z.string().min(1).optional(),
        /** App-level token (xapp-…): interactions arrive over Socket Mode, no public URL needed. */
        appToken: z.string().min(1).optional(),
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
    /** Named places a message can go, used by routes and escalation policies. */
    targets: z.record(refName, targetSchema).default({}),
    /**
     * Which targets an incident is told to: the first route that matches (and those after it while
     * `continue`). Absent: one catch-all to the configured channels. A catch-all (no `match`) is required.
     */
    routes: z.array(routeSchema).min(1).optional(),
    escalation: z
      .object({
        policies: z.record(refName, escalationPolicySchema).default({}),
        /** Policy of routes and rules that name none; absent: one step at the ack SLA to the incident's own targets. */
        default: refName.optional(),
      })
      .strict()
      .prefault({}),
    oncall: z
      .object({
        /** An acknowledged incident still firing this long after is firing again (0: never). */
        ackExpiry: duration.default(14_400_000),
        /** Times shown in messages, and maintenance windows' clock. */
        timeZone: timeZone.default('UTC'),
        /** How long an email acknowledge link works. */
        ackLinkTtl: duration.default(86_400_000),
        /** The Slack "Silence" button's length. */
        silenceFor: duration.default(3_600_000),
        /** More than `changes` state changes of one series within `window`: held as flapping until stable for `stableFor`. */
        flapping: z
          .object({
            changes: integer(0, 1000).default(6),
            window: duration.default(1_800_000),
            stableFor: duration.default(600_000),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /** Auto-remediation: named targets (what to restart, which tasks table) and global guards. */
    remediation: remediationConfigSchema.prefault({}),
    /** Recurring silences (maintenance windows). */
    maintenance: z.array(maintenanceSchema).default([]),
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

export const configSchema = configSchemaBase.superRefine(checkRouting);

/** Every name a route, policy or step uses must exist, and some route must catch everything. */
function checkRouting(c: z.output<typeof configSchemaBase>, ctx: z.RefinementCtx): void {
  const known = new Set([
    ...Object.keys(c.targets),
    ...(c.slack ? ['slack'] : []),
    ...(c.email ? ['email'] : []),
  ]);
  const target = (name: string, path: (string | number)[]) => {
    if (!known.has(name))
      ctx.addIssue({
        code: 'custom',
        path,
        message: `unknown target "${name}" (known: ${[...known].join(', ') || 'none: configure slack, email or targets'})`,
      });
  };
  const policy = (name: string | undefined, path: (string | number)[]) => {
    if (name !== undefined && !Object.hasOwn(c.escalation.policies, name))
      ctx.addIssue({ code: 'custom', path, message: `unknown escalation policy "${name}"` });
  };
  c.routes?.forEach((r, i) => {
    r.to.forEach((t, j) => target(t, ['routes', i, 'to', j]));
    policy(r.escalation, ['routes', i, 'escalation']);
  });
  if (c.routes && !c.routes.some((r) => Object.keys(r.match).length === 0))
    ctx.addIssue({
      code: 'custom',
      path: ['routes'],
      message: 'needs a catch-all route (one with no `match`), or some incidents would reach nobody',
    });
  policy(c.escalation.default, ['escalation', 'default']);
  for (const [name, p] of Object.entries(c.escalation.policies))
    p.steps.forEach((s, i) =>
      s.to.forEach((t, j) => target(t, ['escalation', 'policies', name, 'steps', i, 'to', j])),
    );
  for (const name of Object.keys(c.targets))
    if (name === 'slack' || name === 'email')
      ctx.addIssue({
        code: 'custom',
        path: ['targets', name],
        message: `"${name}" is the ${name} channel's own target; choose another name`,
      });
  for (const [name, t] of Object.entries(c.targets)) {
    if (t.slack && !c.slack)
      ctx.addIssue({
        code: 'custom',
        path: ['targets', name, 'slack'],
        message: 'needs the `slack` section',
      });
    if (t.email && !c.email)
      ctx.addIssue({
        code: 'custom',
        path: ['targets', name, 'email'],
        message: 'needs the `email` section',
      });
  }
}

export type VigilConfigInput = z.input<typeof configSchema>;
export type VigilConfig = Readonly<z.output<typeof configSchema>>;
