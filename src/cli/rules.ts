import { keysOf } from '../rules/threshold-keys.js';
import { existsSync } from 'node:fs';
import { defaultConfigFile, loadConfig } from '../config/load.js';
import { formatDuration } from '../config/duration.js';
import { ruleJsonSchema } from '../rules/json-schema.js';
import { ConfigError } from '../errors.js';
import { inhibitionWarnings } from '../rules/inhibit-check.js';
import { loadRules } from '../rules/loader.js';
import { groupByWarnings, unfedRules } from '../sources/coverage.js';
import { sourcesSchema } from '../sources/schema.js';

/**
 * Validates every rule file, and that the configured sources (the defaults without a config) can
 * feed every enabled rule; problems (all of them, with file:line) exit 2 through reportFailure.
 */
export function runRulesValidate(opts: { config?: string; dir?: string; json?: boolean }): void {
  const useConfig = opts.config !== undefined || existsSync(defaultConfigFile);
  const config = useConfig ? loadConfig(opts.config === undefined ? {} : { file: opts.config }) : undefined;
  const dir = opts.dir ?? config?.rules.dir ?? 'rules';
  const set = loadRules(dir, config?.rules.vars ?? {}, process.env, config?.rules.envPrefix);
  const unfed = unfedRules(set, config?.sources ?? sourcesSchema.parse(undefined));
  if (unfed.length) throw new ConfigError(unfed);
  for (const w of [
    ...groupByWarnings(set, config?.sources ?? sourcesSchema.parse(undefined)),
    ...inhibitionWarnings(set),
  ])
    process.stderr.write(`warning: ${w}\n`);
  if (opts.json) {
    console.log(JSON.stringify({ dir, rules: set.rules, probes: set.probes }, null, 2));
    return;
  }
  for (const rule of set.rules) {
    const c = rule.condition as unknown as Record<string, number>;
    const keys = Object.entries(keysOf(rule))
      .map(([k, v]) => `${k}=${v.show ? v.show(c[k] as number) : c[k]}`)
      .join(' ');
    const probe = rule.probe ? `, probe ${rule.probe.name} every ${formatDuration(rule.probe.every)}` : '';
    console.log(
      `✓ ${rule.id} [${rule.severity}] ${rule.condition.kind} ${keys}, ack SLA ${formatDuration(rule.ackSla)}${probe}${rule.enabled ? '' : ' (disabled)'}`,
    );
  }
  console.log(`${set.rules.length} rule(s) in ${dir} are valid`);
}

export function runRulesSchema(): void {
  console.log(JSON.stringify(ruleJsonSchema(), null, 2));
}
