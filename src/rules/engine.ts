import { VigilError } from '../errors.js';
import { admit } from '../events/admit.js';
import type { VigilEvent } from '../contracts/event.js';
import { isCanary } from '../watchdog/canary.js';
import { act, type ActDeps, type Acting } from './acting.js';
import { conditionOf, sampleOf, windowSummary } from './conditions.js';
import { summaryOf } from './evidence.js';
import { matches, seriesKey, seriesOf } from './fingerprint.js';
import { kindOf } from './kinds/registry.js';
import { ruleMatch, type Rule } from './schema.js';
import { needsOpen, needsResolve, type Observation, type SeriesState, type SeriesStore } from './series.js';
import type { ThresholdSnapshot, ThresholdStore } from './thresholds.js';
import type { WindowInput, WindowResult, WindowStore } from './window-store.js';

/** What the engine needs besides what acting on transitions needs (acting.ts). */
export interface EngineDeps extends ActDeps {
  rules: readonly Rule[];
  series: SeriesStore;
  windows: WindowStore;
  thresholds: ThresholdStore;
  prefix: string;
  /** How far ahead of this agent's clock an event's time may be; later ones are rejected. */
  maxFutureSkewMs: number;
  now?: () => number;
}

interface Run {
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

/** Series the tick looks at per round; more wait for the next tick. */
const TICK_LIMIT = 2000;

/**
 * Evaluates batches of events against the rules, and time passing (the tick) for conditions that
 * change with no event. Consecutive rules keep their series in series.lua; every other kind in the
 * window store. A batch costs one round trip to each, then the transitions.
 */
export class RuleEngine {
  private byName = new Map<string, Array<{ rule: Rule; source?: string; labels: Record<string, string> }>>();
  private byId: ReadonlyMap<string, Rule> = new Map();
  private readonly now: () => number;

  constructor(private readonly deps: EngineDeps) {
    this.now = deps.now ?? Date.now;
    this.replaceRules(deps.rules);
  }

  /**
   * Swaps the rule set (a hot reload) in one synchronous step. A batch or tick in flight keeps the
   * index it started with, so it finishes with the old rules; the next one sees the new.
   */
  replaceRules(rules: readonly Rule[]): void {
    const byId = new Map(rules.filter((r) => r.enabled).map((r) => [r.id, r]));
    const byName = new Map<string, Array<{ rule: Rule; source?: string; labels: Record<string, string> }>>();
    for (const rule of byId.values()) {
      const m = ruleMatch(rule);
      const list = byName.get(m.name) ?? [];
      list.push({ rule, source: m.source, labels: m.labels });
      byName.set(m.name, list);
    }
    this.byId = byId;
    this.byName = byName;
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
    const { byName, byId } = this;
    const thresholds = await this.deps.thresholds.snapshot();
    const observations: Observation[] = [];
    const runs = new Map<string, Run>();
    const windows = new Map<string, WindowInput & { samples: WindowInput['samples'][number][] }>();
    const canaries: VigilEvent[] = [];
    const now = this.now();
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
      for (const { rule, source, labels } of byName.get(event.name) ?? []) {
        if (!matches(rule, event, source, labels)) continue;
        const { fingerprint, labels: seriesLabels } = seriesOf(rule, event);
        const key = seriesKey(this.deps.prefix, fingerprint);
        const kind = kindOf(rule.condition);
        const condition = conditionOf(thresholds, rule, fingerprint);
        if (kind.store === 'runs') {
          if (event.ok === undefined) continue;
          runs.set(key, { rule, fingerprint, labels: seriesLabels, last: event });
          const c = condition as unknown as { count: number; resolveAfter: number };
          observations.push({
            key,
            eventId: event.id,
            atMs,
            ok: event.ok,
            value: event.value ?? 0,
            ...pick(c),
          });
          continue;
        }
        let input = windows.get(key);
        if (!input) {
          input = { key, rule: rule.id, fingerprint, labels: seriesLabels, kind, condition, samples: [] };
          windows.set(key, input);
        }
        input.samples.push(sampleOf(event, atMs, kind, condition));
      }
    });
    metrics.inc('vigil_events_total', {}, result.accepted);
    const [states, judged] = await Promise.all([
      this.deps.series.apply(observations),
      this.deps.windows.apply([...windows.values()], now),
    ]);
    this.countLate(
      states.map((s) => {
        const r = runs.get(s.key) as Run;
        return { s, rule: r.rule.id, fingerprint: r.fingerprint };
      }),
      where,
    );
    this.countLate(
      judged.map((j) => ({ s: j.state, rule: j.input.rule, fingerprint: j.input.fingerprint })),
      where,
    );
    await this.passCanaries(canaries);
    const fromRuns = states.filter(acts).map((s): Acting => {
      const r = runs.get(s.key) as Run;
      return {
        state: s,
        rule: r.rule,
        fingerprint: r.fingerprint,
        labels: r.labels,
        summary: () => summaryOf(s.value, r.last),
      };
    });
    const done = await act(this.deps, [...fromRuns, ...this.acting(judged, thresholds, byId)]);
    result.opened += done.opened;
    result.resolved += done.resolved;
    await this.markSynced(
      fromRuns.map((a) => a.state),
      judged,
    );
    return result;
  }

  /**
   * Time passing: judges the window series whose deadline has come (a `for` ending, a window
   * draining, a heartbeat overdue), as one batch. Series whose rule is gone are forgotten.
   */
  async tick(): Promise<{ judged: number; opened: number; resolved: number }> {
    const now = this.now();
    const due = await this.deps.windows.due(now, TICK_LIMIT);
    if (due.length === 0) return { judged: 0, opened: 0, resolved: 0 };
    const thresholds = await this.deps.thresholds.snapshot();
    const byId = this.byId;
    const gone: string[] = [];
    const inputs: WindowInput[] = [];
    for (const { key, series } of due) {
      const rule = series && byId.get(series.r);
      if (!series || !rule || kindOf(rule.condition).store !== 'window') {
        gone.push(key);
        continue;
      }
      const condition = conditionOf(thresholds, rule, series.fp);
      inputs.push({
        key,
        rule: rule.id,
        fingerprint: series.fp,
        labels: series.l,
        kind: kindOf(condition),
        condition,
        samples: [],
      });
    }
    await this.deps.windows.forget(gone);
    return this.judge(inputs, now, thresholds, byId);
  }

  /**
   * Starts watching the series known before any event: a rule with no groupBy whose condition can
   * fire with no event (absence) is watched from now, so a heartbeat that never comes fires too.
   */
  async watchUnseen(): Promise<void> {
    const thresholds = await this.deps.thresholds.snapshot();
    const byId = this.byId;
    const inputs: WindowInput[] = [];
    for (const rule of byId.values()) {
      if (rule.condition.kind !== 'absence' || rule.groupBy.length > 0) continue;
      const { fingerprint, labels } = seriesOf(rule, { labels: {} } as unknown as VigilEvent);
      const condition = conditionOf(thresholds, rule);
      const key = seriesKey(this.deps.prefix, fingerprint);
      inputs.push({
        key,
        rule: rule.id,
        fingerprint,
        labels,
        kind: kindOf(condition),
        condition,
        samples: [],
      });
    }
    await this.judge(inputs, this.now(), thresholds, byId);
  }

  private async judge(
    inputs: readonly WindowInput[],
    now: number,
    thresholds: ThresholdSnapshot,
    byId: ReadonlyMap<string, Rule>,
  ) {
    const judged = await this.deps.windows.apply(inputs, now);
    const done = await act(this.deps, this.acting(judged, thresholds, byId));
    await this.markSynced([], judged);
    return { judged: judged.length, ...done };
  }

  private acting(
    judged: readonly WindowResult[],
    thresholds: ThresholdSnapshot,
    byId: ReadonlyMap<string, Rule>,
  ): Acting[] {
    return judged
      .filter((j) => acts(j.state))
      .map((j) => {
        const rule = byId.get(j.input.rule) as Rule;
        return {
          state: j.state,
          rule,
          fingerprint: j.input.fingerprint,
          labels: j.input.labels,
          summary: () =>
            windowSummary(rule, conditionOf(thresholds, rule, j.input.fingerprint), j.series, j.verdict),
        };
      });
  }

  private async markSynced(runs: readonly SeriesState[], judged: readonly WindowResult[]): Promise<void> {
    await Promise.all([
      this.deps.series.markSynced(runs),
      this.deps.windows.markSynced(judged.map((j) => j.state).filter(acts)),
    ]);
  }

  /** Late observations were applied in their place; too-late ones (older than a series keeps) were not. */
  private countLate(
    list: ReadonlyArray<{ s: SeriesState; rule: string; fingerprint: string }>,
    where: string,
  ): void {
    for (const { s, rule, fingerprint } of list) {
      if (s.late + s.tooLate === 0) continue;
      this.deps.metrics.inc('vigil_events_late_total', { rule }, s.late + s.tooLate);
      if (s.tooLate === 0) continue;
      this.deps.metrics.inc('vigil_events_too_late_total', { rule }, s.tooLate);
      this.deps.log.warn(
        { where, rule, fingerprint, tooLate: s.tooLate },
        'observations too late to apply: older than anything their series keeps',
      );
    }
  }

  /** A canary made it through evaluation: its dry run continues on every channel's queue. */
  private async passCanaries(canaries: readonly VigilEvent[]): Promise<void> {
    const channels = this.deps.channels;
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
}

const acts = (s: SeriesState) => needsOpen(s) || needsResolve(s);
const pick = (c: { count: number; resolveAfter: number }) => ({
  count: c.count,
  resolveAfter: c.resolveAfter,
});
