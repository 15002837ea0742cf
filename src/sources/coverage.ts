import type { RuleSet } from '../rules/loader.js';
import { sourceKinds, type SourceRegistry } from './registry.js';

/** Events no source makes: the API's and the canary's (`manual`). */
const notFromSources: ReadonlySet<string> = new Set(['manual']);

/**
 * Enabled rules that nothing configured can feed: a probe of a kind no configured source runs, a
 * `match.source` no configured source produces, or a `match.name` that no configured source of
 * that `match.source` gives (checked only when all of them know their names). Such a rule loads
 * fine and never fires, which is worse than an error, so `vigil rules validate` refuses it and an
 * agent warns at start.
 */
export function unfedRules(
  rules: RuleSet,
  sources: ReadonlyArray<{ kind: string; name: string }>,
  registry: SourceRegistry = sourceKinds,
): string[] {
  const configured = sources.map((s) => registry.get(s.kind));
  const runs = new Set(configured.flatMap((k) => k.runsProbes ?? []));
  const produced = new Set(configured.flatMap((k) => k.produces));
  const have = sources.length ? sources.map((s) => `${s.name} (${s.kind})`).join(', ') : 'none';
  const kindsThat = (has: (k: (typeof configured)[number]) => boolean) =>
    registry
      .all()
      .filter(has)
      .map((k) => k.kind)
      .join(' or ') || 'no source kind does';
  const problems: string[] = [];
  for (const rule of rules.rules) {
    if (!rule.enabled) continue;
    const probe = rule.probe;
    if (probe && !runs.has(probe.kind)) {
      const need = kindsThat((k) => (k.runsProbes ?? []).includes(probe.kind));
      problems.push(
        `rule "${rule.id}": no configured source runs its ${probe.kind} probe "${probe.name}" (needs: ${need}; sources: ${have})`,
      );
    }
    const source = rule.match?.source;
    if (!source || notFromSources.has(source)) continue;
    if (!produced.has(source)) {
      const need = kindsThat((k) => k.produces.includes(source));
      problems.push(
        `rule "${rule.id}": no configured source produces "${source}" events for match.source (needs: ${need}; sources: ${have})`,
      );
      continue;
    }
    const names = eventNames(sources, registry, source);
    const name = rule.match?.name ?? '';
    if (names && !names.includes(name)) {
      const at = rules.matchNameAt?.[rule.id] ?? `rule "${rule.id}"`;
      problems.push(
        `${at} match.name: no ${source} source has a signal named "${name}" (signals: ${names.join(', ') || 'none'})`,
      );
    }
  }
  return problems;
}

/** Every name the configured sources of `source` events can give; undefined if one's are open-ended. */
function eventNames(
  sources: ReadonlyArray<{ kind: string; name: string }>,
  registry: SourceRegistry,
  source: string,
): string[] | undefined {
  const names = new Set<string>();
  for (const spec of sources) {
    const kind = registry.get(spec.kind);
    if (!kind.produces.includes(source)) continue;
    if (!kind.eventNames) return undefined;
    for (const n of kind.eventNames(spec)) names.add(n);
  }
  return [...names];
}

/**
 * Warnings for `groupBy` labels the matched events never carry: every event would land in one series
 * (label value ""), so a per-host rule would silently become one alert for all hosts. Said only when
 * every source that could feed the rule knows its events' labels.
 */
export function groupByWarnings(
  rules: RuleSet,
  sources: ReadonlyArray<{ kind: string; name: string }>,
  registry: SourceRegistry = sourceKinds,
): string[] {
  const warnings: string[] = [];
  for (const rule of rules.rules) {
    if (!rule.enabled || rule.groupBy.length === 0) continue;
    const carried = labelsOf(rule, sources, registry);
    if (!carried) continue;
    const missing = rule.groupBy.filter((l) => !carried.has(l));
    if (missing.length === 0) continue;
    const at = rules.groupByAt?.[rule.id] ?? `rule "${rule.id}"`;
    warnings.push(
      `${at} groupBy: the events this rule matches never carry ${missing.map((m) => `"${m}"`).join(', ')} (they carry: ${[...carried].join(', ') || 'no labels'}); every event would fall into one series`,
    );
  }
  return warnings;
}

/** The labels a rule's events can carry, or undefined when a source's are open-ended. */
function labelsOf(
  rule: RuleSet['rules'][number],
  sources: ReadonlyArray<{ kind: string; name: string }>,
  registry: SourceRegistry,
): Set<string> | undefined {
  if (!rule.match) {
    const probe = rule.probe as NonNullable<typeof rule.probe>;
    const host = probe.kind === 'process' || probe.kind === 'system' ? ['host'] : [];
    return new Set(['probe', ...host, ...Object.keys(probe.labels)]);
  }
  if (rule.match.source !== 'log') return undefined;
  const labels = new Set<string>();
  for (const spec of sources) {
    const kind = registry.get(spec.kind);
    if (!kind.produces.includes('log')) continue;
    if (!kind.eventLabels) return undefined;
    for (const l of kind.eventLabels(spec, rule.match.name)) labels.add(l);
  }
  return labels;
}
