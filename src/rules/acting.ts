import { randomUUID } from 'node:crypto';
import type { ChannelName } from '../contracts/channels.js';
import type { Transitions, Routing } from '../incidents/transitions.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Queues } from '../queues/queues.js';
import type { Rule } from './schema.js';
import { needsOpen, needsResolve, type SeriesState } from './series.js';

/** A series whose fire or resolve the incident store has not acted on yet, with what an alert says. */
export interface Acting {
  state: SeriesState;
  rule: Rule;
  fingerprint: string;
  labels: Record<string, string>;
  summary: () => string;
}

export interface ActDeps {
  transitions: Transitions;
  routing: Routing;
  notify: Queues['notify'];
  leaseForMs: number;
  digest: { threshold: number; windowMs: number };
  metrics: Metrics;
  log: Logger;
  agentId: string;
}

/**
 * Turns fires and resolves into incident transitions, set-based and in the order things happened: a
 * series firing now fired last, so an earlier fire's pending resolve comes first; one at rest
 * resolved last. All rows owed go under one lease: one notify job per channel, whatever the size.
 */
export async function act(
  d: ActDeps,
  list: readonly Acting[],
): Promise<{ opened: number; resolved: number }> {
  const acting = list.filter((a) => needsOpen(a.state) || needsResolve(a.state));
  if (acting.length === 0) return { opened: 0, resolved: 0 };
  const lease = { id: randomUUID(), forMs: d.leaseForMs };
  const channels = new Set<ChannelName>();
  let resolved = 0;
  const resolve = async (part: readonly Acting[]) => {
    if (part.length === 0) return;
    const done = await d.transitions.resolve(
      part.map((a) => ({ fingerprint: a.fingerprint, at: new Date(a.state.resolvedAtMs) })),
      d.agentId,
      'condition cleared',
      d.routing,
      lease,
    );
    done.channels.forEach((c) => channels.add(c));
    resolved += done.incidents.length;
    for (const i of done.incidents) d.log.info({ incident: i.id, rule: i.ruleId }, 'incident resolved');
  };
  await resolve(acting.filter((a) => a.state.firing && needsResolve(a.state)));
  const opening = acting.filter((a) => needsOpen(a.state));
  let opened = 0;
  if (opening.length > 0) {
    const done = await d.transitions.open(
      opening.map((a) => ({
        rule: a.rule,
        fingerprint: a.fingerprint,
        labels: a.labels,
        value: a.state.value,
        summary: a.summary(),
        startedAt: new Date(a.state.firedSinceMs),
      })),
      d.agentId,
      d.routing,
      lease,
      d.digest,
    );
    done.channels.forEach((c) => channels.add(c));
    opened = done.incidents.length;
    for (const incident of done.incidents) {
      d.metrics.inc('vigil_incidents_opened_total', { rule: incident.ruleId });
      d.log.info(
        { incident: incident.id, rule: incident.ruleId, fingerprint: incident.fingerprint },
        'incident opened',
      );
    }
  }
  await resolve(acting.filter((a) => !a.state.firing && needsResolve(a.state)));
  await Promise.all(
    [...channels].map((c) =>
      d.notify[c].add('deliver', { lease: `${lease.id}.${c}` }, { jobId: `${lease.id}.${c}` }),
    ),
  );
  return { opened, resolved };
}
