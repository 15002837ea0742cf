import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import {
  deepFreeze,
  describeIssues,
  interpolate,
  parseYamlDocuments,
  type YamlSource,
} from '../config/yaml-source.js';
import type { ProbeSpec } from '../sources/probes/schema.js';
import { ruleSchema, type Rule } from './schema.js';

export interface RuleSet {
  rules: readonly Rule[];
  probes: readonly ProbeSpec[];
  /** Where each rule's `match.name` is written (`file:line:col`), by rule id; absent in sets built in code. */
  matchNameAt?: Readonly<Record<string, string>>;
  /** Where each rule's `groupBy` is written, for rules that have one. */
  groupByAt?: Readonly<Record<string, string>>;
}

/**
 * Loads every `*.yaml` / `*.yml` file of a folder (one rule each, or several separated by `---`),
 * reporting all problems of all files at once with file:line and field, then freezes the set.
 * Duplicate rule ids or probe names are errors naming both places, not last-one-wins.
 */
export function loadRules(
  dir: string,
  vars: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
  envPrefix = 'VIGIL_RULE_',
): RuleSet {
  if (!existsSync(dir))
    throw new ConfigError([
      `${resolve(dir)}: rules folder not found (set rules.dir; relative to the config file)`,
    ]);
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  const problems: string[] = [];
  const rules: Rule[] = [];
  const ruleFiles = new Map<string, string>();
  const probeFiles = new Map<string, string>();
  const groupByAt: Record<string, string> = {};
  const probes: ProbeSpec[] = [];
  /** Rules that match events by name: a probe's name is checked once every probe is known. */
  const matching: Array<{ rule: Rule; where: (path: PropertyKey[]) => string }> = [];
  for (const f of files) {
    const file = join(dir, f);
    let sources: YamlSource[];
    try {
      sources = parseYamlDocuments(file, readFileSync(file, 'utf8'));
    } catch (err) {
      problems.push(...((err as ConfigError).problems ?? [String(err)]));
      continue;
    }
    // A file holds one rule or several, separated by `---`.
    for (const source of sources) {
      // A rule file reads rules.vars and the environment variables named for it, nothing else: a rule
      // must not be able to put ${SLACK_BOT_TOKEN} into a probe URL it sends somewhere.
      const lookup = (name: string) => vars[name] ?? (name.startsWith(envPrefix) ? env[name] : undefined);
      const fix = (name: string) =>
        name.startsWith(envPrefix)
          ? `set it or write \${${name}:-default}`
          : `rule files read rules.vars and environment variables starting with ${envPrefix} only: add ${name} to rules.vars`;
      const unset = new Set<string>();
      const raw = interpolate(source.value, lookup, problems, source.where, [], unset, fix);
      const parsed = ruleSchema.safeParse(raw);
      if (!parsed.success) {
        problems.push(...describeIssues(parsed.error.issues, source.where, unset, raw));
        continue;
      }
      const rule = parsed.data;
      const seen = ruleFiles.get(rule.id);
      if (seen) problems.push(`${source.where(['id'])} id: rule "${rule.id}" is already defined at ${seen}`);
      ruleFiles.set(rule.id, source.where(['id']));
      const self = rule.inhibitedBy.findIndex((i) => i.rule === rule.id);
      if (self >= 0)
        problems.push(
          `${source.where(['inhibitedBy', self])} inhibitedBy: rule "${rule.id}" cannot inhibit itself (its own incidents would hold each other's notifications)`,
        );
      if (rule.probe) {
        const other = probeFiles.get(rule.probe.name);
        if (other)
          problems.push(
            `${source.where(['probe', 'name'])} probe.name: "${rule.probe.name}" is already defined at ${other}`,
          );
        probeFiles.set(rule.probe.name, source.where(['probe', 'name']));
        probes.push(rule.probe);
      }
      rules.push(rule);
      if (rule.groupBy.length) groupByAt[rule.id] = source.where(['groupBy']);
      if (rule.match) matching.push({ rule, where: source.where });
    }
  }
  const matchNameAt: Record<string, string> = {};
  for (const { rule, where } of matching) {
    matchNameAt[rule.id] = where(['match', 'name']);
    const name = rule.match?.name;
    if (rule.match?.source !== 'probe' || probeFiles.has(name ?? '')) continue;
    const known = [...probeFiles.keys()].join(', ') || 'none';
    problems.push(`${where(['match', 'name'])} match.name: no probe is named "${name}" (probes: ${known})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze({ rules, probes, matchNameAt, groupByAt });
}
