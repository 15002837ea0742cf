import { VigilError } from '../errors.js';
import { admit } from '../events/admit.js';
import type { VigilEvent } from '../events/event.js';
import type { Dispatcher } from '../incidents/dispatch.js';
import type { IncidentStore } from '../incidents/store.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { matches, seriesKey, seriesOf } from './fingerprint.js';
import { ruleMatch, type Rule } from './schema.js';
import { needsOpen, needsResolve, type Observation, type SeriesState, type SeriesStore } from './series.js';
import { thresholdOf, type ThresholdStore } from './thresholds.js';

export interface EngineDeps {
  rules: readonly Rule[];
  series: SeriesStore;
  thresholds: ThresholdStore;
  incidents: IncidentStore;
  dispatch: Dispatcher;
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
    await Promise.all(
      states
        .filter((s) => needsOpen(s) || needsResolve(s))
        .map(async (s) => {
          const t = touched.get(s.key) as Touched;
          // Act in the order things happened: a series firing now fired last, so an earlier fire's
          // pending resolve comes first; one at rest resolved last.
          if (s.firing && needsResolve(s)) result.resolved += await this.resolve(s, t);
          if (needsOpen(s)) result.opened += await this.open(s, t);
          if (!s.firing && needsResolve(s)) result.resolved += await this.resolve(s, t);
          await this.deps.series.markSynced(s);
        }),
    );
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

  private async open(s: SeriesState, t: Touched): Promise<number> {
    const reason = typeof t.last.data?.error === 'string' ? `: ${t.last.data.error}` : '';
    const { incident, created } = await this.deps.incidents.open({
      rule: t.rule,
      fingerprint: t.fingerprint,
      labels: t.labels,
      value: s.value,
      summary: `${s.value} consecutive failures of ${t.last.name}${reason}`,
      startedAt: new Date(s.firedSinceMs),
      actor: this.deps.agentId,
    });
    await this.deps.dispatch.opened(incident, t.rule);
    if (created) {
      this.deps.metrics.inc('vigil_incidents_opened_total', { rule: t.rule.id });
      this.deps.log.info(
        { incident: incident.id, rule: t.rule.id, fingerprint: t.fingerprint },
        'incident opened',
      );
    }
    return created ? 1 : 0;
  }

  private async resolve(s: SeriesState, t: Touched): Promise<number> {
    const at = new Date(s.resolvedAtMs);
    const incident = await this.deps.incidents.resolve(
      t.fingerprint,
      at,
      this.deps.agentId,
      'condition cleared',
    );
    if (!incident || incident.state !== 'resolved') return 0;
    await this.deps.dispatch.resolved(incident, t.rule);
    this.deps.log.info({ incident: incident.id, rule: t.rule.id }, 'incident resolved');
    return 1;
  }
}
