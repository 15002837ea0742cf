import { configuredChannels } from './notify/targets.js';
import type { VigilConfig } from './config/schema.js';
import type { ChannelName } from './contracts/channels.js';
import type { Source } from './contracts/source.js';
import type { Pool } from './db/pool.js';
import { errorMessage } from './errors.js';
import type { Logger } from './log.js';
import type { NotifyChannel } from './notify/channel.js';
import type { Pipeline } from './pipeline.js';
import type { RuleSet } from './rules/loader.js';
import type { RuleChange } from './rules/reload.js';
import { inhibitionWarnings } from './rules/inhibit-check.js';
import { groupByWarnings, unfedRules } from './sources/coverage.js';
import { scheduledProbes } from './sources/probes/scheduler.js';

/**
 * What is wrong with a rule set on this agent but not fatal: channels it has not configured, rules
 * no configured source feeds, groupBy labels their events never carry. Logged at start, and after
 * a reload for what is new.
 */
export function ruleWarnings(
  rules: RuleSet,
  channels: ReadonlyMap<ChannelName, NotifyChannel>,
  config: Pick<VigilConfig, 'sources' | 'targets' | 'escalation' | 'slack' | 'email' | 'remediation'>,
): Array<{ msg: string; detail: Record<string, unknown> }> {
  const out: Array<{ msg: string; detail: Record<string, unknown> }> = [];
  const sources = config.sources;
  const targets = new Set([...configuredChannels(config), ...Object.keys(config.targets)]);
  for (const rule of rules.rules) {
    // Not fatal either: the route's own targets still hear it. But a page that goes nowhere is
    // found at start, not during an incident.
    const unknown = (rule.route?.to ?? []).filter((t) => !targets.has(t));
    if (unknown.length)
      out.push({
        msg: 'rule routes to targets vigil.yaml does not define',
        detail: { rule: rule.id, unknown },
      });
    const policy = rule.route?.escalation;
    if (policy !== undefined && !Object.hasOwn(config.escalation.policies, policy))
      out.push({
        msg: 'rule names an escalation policy vigil.yaml does not define: it escalates once, to its own targets',
        detail: { rule: rule.id, policy },
      });
    // Not fatal: each run is refused and recorded ("target … is not configured") in the incident's thread.
    const names = rule.remediate.flatMap((e) => (e.target ? [e.target] : (e.targetFromLabel?.among ?? [])));
    const unconfigured = names.filter((t) => !Object.hasOwn(config.remediation.targets, t));
    if (unconfigured.length)
      out.push({
        msg: 'rule remediates targets vigil.yaml does not configure (remediation.targets)',
        detail: { rule: rule.id, unconfigured },
      });
    const missing = rule.notify.filter((c) => !channels.has(c));
    // Not fatal: what the rule owes such a channel waits for an agent that has it, and is handed to
    // the other channels after notify.fallbackAfter. But nobody should find out from silence.
    if (missing.length)
      out.push({
        msg: 'rule names channels this agent has not configured',
        detail: { rule: rule.id, missing },
      });
  }
  for (const problem of inhibitionWarnings(rules))
    out.push({ msg: 'rule is inhibited by a rule that is not loaded', detail: { problem } });
  for (const problem of unfedRules(rules, sources))
    out.push({ msg: 'rule will never fire', detail: { problem } });
  for (const problem of groupByWarnings(rules, sources))
    out.push({ msg: 'rule groups by a label its events never carry', detail: { problem } });
  return out;
}

export interface ApplyRulesDeps {
  config: VigilConfig;
  pipeline: Pipeline;
  sources: readonly Source[];
  channels: ReadonlyMap<ChannelName, NotifyChannel>;
  pool: Pool;
  log: Logger;
}

/**
 * Puts a reloaded rule set in place of the running one: evaluation first, in one synchronous swap
 * (engine, thresholds), then the sources (probe schedules, host probes, log signals).
 * What a removed rule leaves is decided in README ("Hot reload"): its window series are forgotten
 * by the tick, its open incidents stay open (logged here), its cluster probe keeps its scheduler.
 */
export async function applyRules(
  d: ApplyRulesDeps,
  before: RuleSet,
  next: RuleSet,
  change: RuleChange,
): Promise<void> {
  const { log } = d;
  d.pipeline.replaceRules(next);
  const known = new Set(ruleWarnings(before, d.channels, d.config).map((w) => JSON.stringify(w.detail)));
  for (const w of ruleWarnings(next, d.channels, d.config))
    if (!known.has(JSON.stringify(w.detail))) log.warn(w.detail, w.msg);
  const kept = new Set(scheduledProbes(next).map((p) => p.name));
  const dropped = scheduledProbes(before)
    .map((p) => p.name)
    .filter((name) => !kept.has(name));
  if (dropped.length)
    log.warn(
      { probes: dropped },
      'probes no longer defined here keep their cluster schedule (another agent may still define them): remove them with `vigil probes prune`',
    );
  const failed: string[] = [];
  for (const source of d.sources) {
    try {
      await source.rulesChanged?.(next);
    } catch (err) {
      failed.push(`source ${source.name}: ${errorMessage(err)}`);
    }
  }
  await d.pipeline.watchUnseen();
  if (change.removed.length) await reportOpenIncidents(d, change.removed);
  if (failed.length) throw new Error(failed.join('; '));
}

/**
 * A removed rule's open incidents are left open: nothing judges them any more, but resolving them
 * would tell people a problem is gone that nobody looked at (and another agent, mid rolling deploy,
 * may still have the rule). They escalate as before, to the fallback channels, until resolved.
 */
async function reportOpenIncidents(d: ApplyRulesDeps, removed: readonly string[]): Promise<void> {
  const { rows } = await d.pool.query<{ rule_id: string; id: string }>(
    `SELECT rule_id, id FROM vigil_incidents WHERE rule_id = ANY($1) AND state <> 'resolved' ORDER BY id`,
    [removed],
  );
  if (rows.length === 0) return;
  d.log.warn(
    { incidents: rows.map((r) => r.id), rules: [...new Set(rows.map((r) => r.rule_id))] },
    'removed rules have open incidents: left open, no longer evaluated, until someone resolves them',
  );
}
