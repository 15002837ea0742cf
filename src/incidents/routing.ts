import type { VigilConfig } from '../config/schema.js';
import type { Rule } from '../rules/schema.js';
import type { TargetBook } from '../notify/targets.js';

/** Where an incident is told, and which escalation policy pages people about it. */
export interface RoutePlan {
  targets: string[];
  policy: string | undefined;
}

type Route = NonNullable<VigilConfig['routes']>[number];
type Match = Route['match'];

const oneOf = <T>(want: T | readonly T[] | undefined, have: T) =>
  want === undefined || (Array.isArray(want) ? want.includes(have) : want === have);

export function incidentMatches(
  m: Match,
  i: { ruleId: string; severity: string; category: string; labels: Record<string, string> },
): boolean {
  return (
    oneOf(m.severity, i.severity) &&
    oneOf(m.rule, i.ruleId) &&
    oneOf(m.category, i.category) &&
    Object.entries(m.labels ?? {}).every(([k, v]) => i.labels[k] === v)
  );
}

/**
 * vigil.yaml's routes, evaluated in order: the first that matches wins (those marked `continue` let
 * the next ones add theirs). A rule adds its own targets and may name its own policy. Targets on a
 * channel the rule does not use (`notify`) are left out. Without `routes`, everything goes to the
 * configured channels, as before routes existed.
 */
export class Router {
  private readonly routes: readonly Route[];

  constructor(
    config: { routes?: VigilConfig['routes']; escalation?: { default?: string | undefined } },
    private readonly targets: TargetBook,
  ) {
    this.routes = config.routes ?? [{ match: {}, to: [...targets.channels], continue: false }];
    this.defaultPolicy = config.escalation?.default;
  }

  private readonly defaultPolicy: string | undefined;

  route(rule: Rule, labels: Record<string, string>): RoutePlan {
    const subject = { ruleId: rule.id, severity: rule.severity, category: rule.category, labels };
    const names: string[] = [];
    let policy: string | undefined;
    for (const r of this.routes) {
      if (!incidentMatches(r.match, subject)) continue;
      names.push(...r.to);
      policy ??= r.escalation;
      if (!r.continue) break;
    }
    names.push(...(rule.route?.to ?? []));
    const targets = [...new Set(names)].filter((n) => {
      const channel = this.targets.channelOf(n);
      return channel !== undefined && rule.notify.includes(channel);
    });
    // A route whose targets are all on channels this rule does not use would tell nobody: the rule's
    // own channels hear it instead.
    const told = targets.length
      ? targets
      : rule.notify.filter((c) => this.targets.channelOf(c) !== undefined);
    return { targets: told, policy: rule.route?.escalation ?? policy ?? this.defaultPolicy };
  }
}
