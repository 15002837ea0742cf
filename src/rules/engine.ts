import { VigilError } from '../errors.js';
import { randomUUID } from 'node:crypto';
import { admit } from '../events/admit.js';
import type { VigilEvent } from '../contracts/event.js';
import { summaryOf } from './evidence.js';
import type { OpenRequest, ResolveRequest, Routing, Transitions } from '../incidents/transitions.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { ChannelName } from '../contracts/channels.js';
import type { Queues } from '../queues/queues.js';
import { isCanary } from '../watchdog/canary.js';
import { matches, seriesKey, seriesOf } from './fingerprint.js';
import { ruleMatch, type Rule } from './schema.js';
import { needsOpen, needsResolve, type Observation, type SeriesState, type SeriesStore } from './series.js';
import { thresholdOf, type ThresholdStore } from './thresholds.js';

export interface EngineDeps {
  rules: readonly Rule[];
  series: SeriesStore;
  thresholds: ThresholdStore;
  transitions: Transitions;
  routing: Routing;
  notify: Queues['notify'];
  leaseForMs: number;
  digest: { threshold: number; windowMs: number };
  metrics: Metrics;
  log: Logger;
  agentId: string;
  prefix: string;
  /** How far ahead of this agent's clock an event's time may be; later ones are rejected. */
  maxFutureSkewMs: number;
}

interface Touched {
  rule: Rule;
  fingerprint: string;
  labels: Record<string, string>;
  last: VigilEvent;
}

export interface BatchResult {
  accepted: number;
  rejected: number;
  opened: number;
  resolved: number;
}

/** Evaluates batches of events against the rules: one Redis round trip per batch, then the transitions. */
export class RuleEngine {
  private readonly byName = new Map<
    string,
    Array<{ rule: Rule; source?: string; labels: Record<string, string> }>
  >();

  constructor(private readonly deps: EngineDeps) {
    for (const rule of deps.rules) {
      if (!rule.enabled) continue;
      const m = ruleMatch(rule);
      const list = this.byName.get(m.name) ?? [];
      list.push({ rule, source: m.source, labels: m.labels });
      this.byName.set(m.name, list);
    }
  }

  async processBatch(raw: unknown, where: string): Promise<BatchResult> {
    const { metrics, log } = this.deps;
    if (!Array.isArray(raw)) {
      metrics.inc('vigil_events_rejected_total', { reason: 'batch' });
      throw new VigilError(
        'E_BATCH_MALFORMED',
        `${where}: job data has no "events" list (got ${typeof raw})`,
      );
    }
    const result: BatchResult = { accepted: 0, rejected: 0, opened: 0, resolved: 0 };
    const thresholds = await this.deps.thresholds.snapshot();
    const observations: Observation[] = [];
    const touched = new Map<string, Touched>();
    const canaries: VigilEvent[] = [];
    const now = Date.now();
    raw.forEach((item, index) => {
      const admitted = admit(item, now, this.deps.maxFutureSkewMs);
      if (!admitted.ok) {
        result.rejected++;
        metrics.inc('vigil_events_rejected_total', { reason: admitted.reason });
        log.warn(
          { where: `${where}[${index}]`, reason: admitted.reason, ...admitted.detail },
          'event rejected',
        );
        return;
      }
      result.accepted++;
      const { event, atMs } = admitted;
      if (isCanary(event)) canaries.push(event);
      for (const { rule, source, labels } of this.byName.get(event.name) ?? []) {
        if (!matches(rule, event, source, labels) || event.ok === undefined) continue;
        const { fingerprint, labels: seriesLabels } = seriesOf(rule, event);
        const key = seriesKey(this.deps.prefix, fingerprint);
        touched.set(key, { rule, fingerprint, labels: seriesLabels, last: event });
        observations.push({
          key,
          eventId: event.id,
          atMs,
          ok: event.ok,
          value: event.value ?? 0,
          count: thresholdOf(thresholds, rule, 'count'),
          resolveAfter: thresholdOf(thresholds, rule, 'resolveAfter'),
        });
      }
    });
    metrics.inc('vigil_events_total', {}, result.accepted);
    const states = await this.deps.series.apply(observations);
    this.countLate(states, touched, where);
    const acting = states.filter((s) => needsOpen(s) || needsResolve(s));
    await this.passCanaries(canaries);
    if (acting.length === 0) return result;
    // Set-based, in the order things happened: a series firing now fired last, so an earlier fire's
    // pending resolve comes first; one at rest resolved last. All rows owed go under one lease, so
    // the batch costs one notify job per channel, whatever its size.
    const lease = { id: randomUUID(), forMs: this.deps.leaseForMs };
    const channels = new Set<ChannelName>();
    const resolve = async (list: SeriesState[]) => {
      const done = await this.resolve(list, touched, lease);
      done.channels.forEach((c) => channels.add(c));
      result.resolved += done.count;
    };
    await resolve(acting.filter((s) => s.firing && needsResolve(s)));
    const opened = await this.open(acting.filter(needsOpen), touched, lease);
    opened.channels.forEach((c) => channels.add(c));
    result.opened += opened.count;
    await resolve(acting.filter((s) => !s.firing && needsResolve(s)));
    await Promise.all(
      [...channels].map((c) =>
        this.deps.notify[c].add('deliver', { lease: `${lease.id}.${c}` }, { jobId: `${lease.id}.${c}` }),
      ),
    );
    await this.deps.series.markSynced(acting);
    return result;
  }

  /** Late observations were applied in their place; too-late ones (older than a series keeps) were not. */
  private countLate(
    states: readonly SeriesState[],
    touched: ReadonlyMap<string, Touched>,
    where: string,
  ): void {
    for (const s of states) {
      if (s.late + s.tooLate === 0) continue;
      const { rule, fingerprint } = touched.get(s.key) as Touched;
      this.deps.metrics.inc('vigil_events_late_total', { rule: rule.id }, s.late + s.tooLate);
      if (s.tooLate === 0) continue;
      this.deps.metrics.inc('vigil_events_too_late_total', { rule: rule.id }, s.tooLate);
      this.deps.log.warn(
        { where, rule: rule.id, fingerprint, tooLate: s.tooLate },
        'observations too late to apply: older than anything their series keeps',
      );
    }
  }

  /** A canary made it through evaluation: its dry run continues on every channel's queue. */
  private async passCanaries(canaries: readonly VigilEvent[]): Promise<void> {
    const channels = this.deps.routing.fallback;
    await Promise.all(
      canaries.flatMap((e) => {
        const canary = { agent: e.labels.agent ?? e.host, sentAt: Date.parse(e.at) };
        return channels.map((c) =>
          this.deps.notify[c].add(
            'canary',
            { lease: '', canary },
            { jobId: `canary.${canary.agent}.${canary.sentAt}.${c}`.replace(/:/g, '_') },
          ),
        );
      }),
    );
  }

  private async open(
    list: SeriesState[],
    touched: ReadonlyMap<string, Touched>,
    lease: { id: string; forMs: number },
  ): Promise<{ count: number; channels: ChannelName[] }> {
    const reqs: OpenRequest[] = list.map((s) => {
      const t = touched.get(s.key) as Touched;
      return {
        rule: t.rule,
        fingerprint: t.fingerprint,
        labels: t.labels,
        value: s.value,
        summary: summaryOf(s.value, t.last),
        startedAt: new Date(s.firedSinceMs),
      };
    });
    const { incidents, channels } = await this.deps.transitions.open(
      reqs,
      this.deps.agentId,
      this.deps.routing,
      lease,
      this.deps.digest,
    );
    for (const incident of incidents) {
      this.deps.metrics.inc('vigil_incidents_opened_total', { rule: incident.ruleId });
      this.deps.log.info(
        { incident: incident.id, rule: incident.ruleId, fingerprint: incident.fingerprint },
        'incident opened',
      );
    }
    return { count: incidents.length, channels };
  }

  private async resolve(
    list: SeriesState[],
    touched: ReadonlyMap<string, Touched>,
    lease: { id: string; forMs: number },
  ): Promise<{ count: number; channels: ChannelName[] }> {
    const reqs: ResolveRequest[] = list.map((s) => ({
      fingerprint: (touched.get(s.key) as Touched).fingerprint,
      at: new Date(s.resolvedAtMs),
    }));
    const { incidents, channels } = await this.deps.transitions.resolve(
      reqs,
      this.deps.agentId,
      'condition cleared',
      this.deps.routing,
      lease,
    );
    for (const i of incidents) this.deps.log.info({ incident: i.id, rule: i.ruleId }, 'incident resolved');
    return { count: incidents.length, channels };
  }
}
