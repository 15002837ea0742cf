import { z } from 'zod';
import { duration } from '../config/duration.js';
import { eventSources } from '../contracts/event.js';
import { channelNames } from '../contracts/channels.js';
import { refName } from '../config/schema.js';
import { probeSchema } from '../sources/probes/schema.js';
import { conditionSchema } from './kinds/registry.js';
import { ruleRemediationSchema } from '../remediate/schema.js';

export const ruleSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and "-"'),
    title: z.string().min(1).max(200),
    description: z.string().default(''),
    category: z
      .enum(['availability', 'performance', 'resource', 'business', 'data', 'other'])
      .default('other'),
    severity: z.enum(['critical', 'high', 'warning', 'info']),
    /** How long an incident may stay unacknowledged before it is escalated. */
    ackSla: duration,
    enabled: z.boolean().default(true),
    /** A probe this rule defines; other rules may match its events by name. */
    probe: probeSchema.optional(),
    /** Which events the rule looks at; defaults to the events of its own probe. */
    match: z
      .object({
        source: z.enum(eventSources).optional(),
        name: z.string().min(1),
        labels: z.record(z.string(), z.string()).default({}),
      })
      .strict()
      .optional(),
    /** Event labels that split the rule into separate series (one incident per value). */
    groupBy: z.array(z.string().min(1)).default([]),
    condition: conditionSchema,
    /** Channels this rule's incidents may use: targets of other channels are left out of its route. */
    notify: z.array(z.enum(channelNames)).default(['slack', 'email']),
    /** Targets added to what the routes give, and the escalation policy that replaces the route's. */
    route: z
      .object({
        to: z.array(refName).default([]),
        escalation: refName.optional(),
      })
      .strict()
      .optional(),
    /**
     * While an incident of one of these rules is open (with the same values of `equal` labels), this
     * rule's incidents are recorded but not sent; their resolutions are never hidden.
     */
    inhibitedBy: z
      .array(
        z.union([
          z
            .string()
            .regex(/^[a-z0-9][a-z0-9-]*$/)
            .transform((rule) => ({ rule, equal: [] as string[] })),
          z
            .object({
              rule: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
              equal: z.array(z.string().min(1)).default([]),
            })
            .strict(),
        ]),
      )
      .default([]),
    /**
     * Auto-remediation: targets of vigil.yaml `remediation.targets` to act on when an incident of
     * this rule opens, each behind its guards (see src/remediate).
     */
    remediate: z.array(ruleRemediationSchema).max(10).default([]),
    /** What to do, for the people paged: a link shown on every message. */
    runbook: z.url({ protocol: /^https?$/ }).optional(),
    labels: z.record(z.string(), z.string()).default({}),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (!rule.match && !rule.probe) {
      ctx.addIssue({
        code: 'custom',
        path: ['match'],
        message: 'a rule needs `match` or a `probe` of its own',
      });
    }
  });

export type Rule = z.output<typeof ruleSchema>;
export type Condition = z.output<typeof conditionSchema>;

export interface RuleMatch {
  source: string | undefined;
  name: string;
  labels: Record<string, string>;
}

export function ruleMatch(rule: Rule): RuleMatch {
  if (rule.match) return { source: rule.match.source, name: rule.match.name, labels: rule.match.labels };
  const probe = rule.probe as NonNullable<Rule['probe']>;
  return { source: 'probe', name: probe.name, labels: {} };
}
