import { z } from 'zod';
import { duration } from '../config/duration.js';
import { integer } from '../config/fields.js';
import { remediationActions } from './registry.js';

/** vigil.yaml `remediation`: the targets rules may act on, and the guards every run passes. */
export const remediationConfigSchema = z
  .object({
    /** Log and post what would run, run nothing: for every rule (a rule may also ask for it alone). */
    dryRun: z.boolean().default(false),
    /** Runs at once per agent (one at a time per target in any case). */
    concurrency: integer(1, 64).default(4),
    /** A run still going after this is cut off (its action is aborted) and recorded as failed. */
    runTimeout: duration.default(300_000),
    /**
     * The per-target lock's lease, renewed while the run goes on: an agent that dies mid-run frees
     * its target this long after, and its run is recorded as interrupted.
     */
    leaseFor: duration.default(30_000),
    /** Named targets: what to act on and how; rules refer to them by name. */
    targets: remediationActions.targetsSchema().default({}),
  })
  .strict();

export type RemediationConfig = z.output<typeof remediationConfigSchema>;

const targetName = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, "_" and "-"');

/** One entry of a rule's `remediate`: which target, and the guards around its runs. */
export const ruleRemediationSchema = z
  .object({
    /** A target of vigil.yaml `remediation.targets`. */
    target: targetName.optional(),
    /**
     * Or: the incident's label `label` names the target, which must be one of `among`. A label can
     * only choose between configured targets; any other value is refused and recorded.
     */
    targetFromLabel: z
      .object({ label: z.string().min(1), among: z.array(targetName).min(1) })
      .strict()
      .optional(),
    /** Record and post what would run; run nothing. */
    dryRun: z.boolean().default(false),
    /** Ask in Slack (Approve / Reject) before running; unanswered after `approval.expiresAfter`, it does not run. */
    approval: z
      .union([
        z.boolean().transform((on) => (on ? { expiresAfter: 900_000 } : undefined)),
        z.object({ expiresAfter: duration.default(900_000) }).strict(),
      ])
      .optional(),
    /** After a run on a target, further runs on it wait this long. */
    cooldown: duration.default(300_000),
    /** At most `runs` runs per target within `within`; then stop and escalate ("3 runs in 30m, giving up"). */
    budget: z
      .object({ runs: integer(1, 1000), within: duration })
      .strict()
      .default({ runs: 3, within: 1_800_000 }),
    /** After the action: the rule's probe is re-run from `after` until it passes or `within` ends. */
    verify: z
      .object({ after: duration.default(1000), within: duration.default(30_000) })
      .strict()
      .default({ after: 1000, within: 30_000 }),
    /**
     * After the fact: the incident firing again within `within` of a verified run counts that run
     * as failed; after `disableAfter` failed runs the action is switched off for the target and a
     * person is paged with the run history.
     */
    recurrence: z
      .object({ within: duration.default(600_000), disableAfter: integer(1, 1000).default(3) })
      .strict()
      .default({ within: 600_000, disableAfter: 3 }),
    /** Also run while the incident is acknowledged or held (silenced, inhibited, flapping). */
    evenWhenHeld: z.boolean().default(false),
  })
  .strict()
  .refine((r) => (r.target === undefined) !== (r.targetFromLabel === undefined), {
    message: 'name a `target`, or pick one with `targetFromLabel` (not both)',
  });

export type RuleRemediation = z.output<typeof ruleRemediationSchema>;
