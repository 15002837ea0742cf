import { randomUUID } from 'node:crypto';
import type { ChannelName } from '../contracts/channels.js';
import type { Incident } from '../contracts/incident.js';
import { errorMessage } from '../errors.js';
import type { HoldJudge, HoldVerdict } from '../incidents/holds.js';
import type { Router } from '../incidents/routing.js';
import type { ChannelOf, Transitions } from '../incidents/transitions.js';
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
  /** Which targets an incident is told, and its escalation policy. */
  router: Router;
  channelOf: ChannelOf;
  /** Silences, inhibition, flapping: the first verdict holds an opening back. */
  holds: readonly HoldJudge[];
  /** Where canaries' dry runs go: every channel this agent delivers on. */
  channels: readonly ChannelName[];
  notify: Queues['notify'];
  leaseForMs: number;
  digest: { threshold: number; windowMs: number };
  metrics: Metrics;
  log: Logger;
  agentId: string;
  /**
   * Told of the incidents just opened (remediation asks for its runs). Its failure is logged, not
   * thrown: the incidents are committed, and the sweeper asks for any runs this missed.
   */
  opened?: (incidents: readonly Incident[]) => Promise<void>;
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
      lease,
    );
    done.channels.forEach((c) => channels.add(c));
    resolved += done.incidents.length;
    for (const i of done.incidents) d.log.info({ incident: i.id, rule: i.ruleId }, 'incident resolved');
  };
  await resolve(acting.filter((a) => a.state.firing && needsResolve(a.state)));
  const opening = acting.filter((a) => needsOpen(a.state));
  let opened = 0;
  const open = async (part: readonly Acting[]) => {
    if (part.length === 0) return;
    const reqs = part.map((a) => ({
      rule: a.rule,
      fingerprint: a.fingerprint,
      labels: a.labels,
      value: a.state.value,
      summary: a.summary(),
      startedAt: new Date(a.state.firedSinceMs),
      plan: d.router.route(a.rule, a.labels),
    }));
    const verdicts = await judge(d.holds, reqs);
    const done = await d.transitions.open(
      reqs.map((r, k) => ({ ...r, hold: verdicts[k] })),
      d.agentId,
      d.channelOf,
      lease,
      d.digest,
    );
    done.channels.forEach((c) => channels.add(c));
    opened += done.incidents.length;
    if (d.opened && done.incidents.length)
      await d
        .opened(done.incidents)
        .catch((err: unknown) =>
          d.log.error({ err: errorMessage(err) }, 'remediation not requested; the sweeper will'),
        );
    for (const incident of done.incidents) {
      d.metrics.inc('vigil_incidents_opened_total', { rule: incident.ruleId });
      d.log.info(
        {
          incident: incident.id,
          rule: incident.ruleId,
          fingerprint: incident.fingerprint,
          targets: incident.targets,
          ...(incident.held ? { held: incident.held, heldBy: incident.heldBy } : {}),
        },
        incident.held ? 'incident opened, held' : 'incident opened',
      );
    }
  };
  // Rules that others may inhibit open after the rest, so a database outage and the task failures it
  // causes, crossing in one batch, find the outage's incident already open and are held by it.
  await open(opening.filter((a) => a.rule.inhibitedBy.length === 0));
  await open(opening.filter((a) => a.rule.inhibitedBy.length > 0));
  await resolve(acting.filter((a) => !a.state.firing && needsResolve(a.state)));
  await Promise.all(
    [...channels].map((c) =>
      d.notify[c].add('deliver', { lease: `${lease.id}.${c}` }, { jobId: `${lease.id}.${c}` }),
    ),
  );
  return { opened, resolved };
}

/** Each opening's verdict: judges in order, the first that holds it wins; later judges see only the rest. */
async function judge(
  judges: readonly HoldJudge[],
  openings: readonly Parameters<HoldJudge['judge']>[0][number][],
): Promise<(HoldVerdict | undefined)[]> {
  const verdicts: (HoldVerdict | undefined)[] = openings.map(() => undefined);
  for (const j of judges) {
    const open = openings.flatMap((o, k) => (verdicts[k] ? [] : [{ o, k }]));
    if (open.length === 0) break;
    const found = await j.judge(open.map((x) => x.o));
    open.forEach((x, n) => (verdicts[x.k] = found[n]));
  }
  return verdicts;
}
