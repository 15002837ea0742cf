import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { deepFreeze, describeIssues, interpolate, parseYaml } from '../config/yaml-source.js';
import type { ProbeSpec } from '../sources/probes/schema.js';
import { ruleSchema, type Rule } from './schema.js';

export interface RuleSet {
  rules: readonly Rule[];
  probes: readonly ProbeSpec[];
  /** Where each rule's `match.name` is written (`file:line:col`), by rule id; absent in sets built in code. */
  matchNameAt?: Readonly<Record<string, string>>;
}

/**
 * Loads every `*.yaml` / `*.yml` file of a folder (one rule each), reporting all problems of all
 * files at once with file:line and field, then freezes the set. Duplicate rule ids or probe names
 * are errors, not last-one-wins.
 */
export function loadRules(dir: string, vars: Record<string, string>, env = process.env): RuleSet {
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
  const probes: ProbeSpec[] = [];
  /** Rules that match events by name: a probe's name is checked once every probe is known. */
  const matching: Array<{ rule: Rule; where: (path: PropertyKey[]) => string }> = [];
  for (const f of files) {
    const file = join(dir, f);
    let source;
    try {
      source = parseYaml(file, readFileSync(file, 'utf8'));
    } catch (err) {
      problems.push(...((err as ConfigError).problems ?? [String(err)]));
      continue;
    }
    const lookup = (name: string) => vars[name] ?? env[name];
    const unset = new Set<string>();
    const raw = interpolate(source.value, lookup, problems, source.where, [], unset);
    const parsed = ruleSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(...describeIssues(parsed.error.issues, source.where, unset));
      continue;
    }
    const rule = parsed.data;
    const seen = ruleFiles.get(rule.id);
    if (seen) problems.push(`${source.where(['id'])} id: rule "${rule.id}" is already defined in ${seen}`);
    ruleFiles.set(rule.id, file);
    if (rule.probe) {
      const other = probeFiles.get(rule.probe.name);
      if (other)
        problems.push(
          `${source.where(['probe', 'name'])} probe.name: "${rule.probe.name}" is already defined in ${other}`,
        );
      probeFiles.set(rule.probe.name, file);
      probes.push(rule.probe);
    }
    rules.push(rule);
    if (rule.match) matching.push({ rule, where: source.where });
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
  return deepFreeze({ rules, probes, matchNameAt });
}
