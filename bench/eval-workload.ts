import type { VigilEvent } from '../src/contracts/event.js';
import type { RuleSet } from '../src/rules/loader.js';
import { ruleSchema } from '../src/rules/schema.js';

/** Rules per event name: an event feeds this many rules (a probe's result feeds a run and a latency rule). */
export const FANOUT = 2;
export const RULES = 1000;
export const NAMES = RULES / FANOUT;
export const HOSTS = 8;
/** Events per job, as the batcher sends them (config `events.batchSize` default). */
export const BATCH = 200;
/** Share of events that are failures (`ok: false`). */
const FAILING = 0.001;
/** The memory phase's rule: one rate rule split by a label with a distinct value per series. */
export const SERIES_EVENT = 'bench-series';

/** Conditions that a healthy stream (values 0–200, almost all ok) keeps quiet, of each kind. */
const conditions = [
  { kind: 'consecutive', count: 3, resolveAfter: 1 },
  { kind: 'rate', count: 1000, window: '5m' },
  { kind: 'ratio', value: 0.5, window: '5m', minSamples: 20 },
  { kind: 'percentile', percentile: 99, value: 1000, window: '5m' },
  { kind: 'threshold', op: '>', value: 1000 },
  { kind: 'absence', after: '5m' },
  { kind: 'match', cooldown: '5m' },
] as const;

/** 1,000 rules over 500 event names, all seven kinds in turn, each split by host; plus the series rule. */
export function benchRules(): RuleSet {
  const rules = Array.from({ length: RULES }, (_, i) =>
    ruleSchema.parse({
      id: `bench-${i}`,
      title: `Bench rule ${i}`,
      severity: 'warning',
      ackSla: '1h',
      match: { name: `ev-${Math.floor(i / FANOUT)}` },
      groupBy: ['host'],
      condition: conditions[i % conditions.length],
    }),
  );
  rules.push(
    ruleSchema.parse({
      id: 'bench-series',
      title: 'Bench series',
      severity: 'warning',
      ackSla: '1h',
      match: { name: SERIES_EVENT },
      groupBy: ['key'],
      condition: { kind: 'rate', count: 1000, window: '5m', counts: 'all' },
    }),
  );
  return { rules, probes: [] };
}

/** Picks an index in [0, n): uniformly, or Zipf-distributed (a few hot series, a long tail). */
export function picker(n: number, zipf: number | undefined, random = Math.random): () => number {
  if (zipf === undefined) return () => Math.floor(random() * n);
  const cdf: number[] = [];
  let sum = 0;
  for (let k = 1; k <= n; k++) cdf.push((sum += 1 / k ** zipf));
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Events are dated over the last SPAN, in order: the 5-minute windows hold all their slices, as in steady state. */
const SPAN = 300_000;

/** `count` events over the 4,000 (name, host) series, in jobs of BATCH. */
export function benchJobs(tag: string, count: number, zipf: number | undefined): VigilEvent[][] {
  const pick = picker(NAMES * HOSTS, zipf);
  const start = Date.now() - SPAN;
  const jobs: VigilEvent[][] = [];
  for (let i = 0; i < count; i += BATCH) {
    const batch: VigilEvent[] = [];
    for (let j = i; j < Math.min(count, i + BATCH); j++) {
      const s = pick();
      const host = `h${s % HOSTS}`;
      batch.push({
        id: `${tag}-${j}`,
        source: 'manual',
        name: `ev-${Math.floor(s / HOSTS)}`,
        at: new Date(start + Math.floor((j / count) * SPAN)).toISOString(),
        host,
        labels: { host },
        value: Math.round(Math.random() * 200),
        ok: Math.random() >= FAILING,
      });
    }
    jobs.push(batch);
  }
  return jobs;
}

/** One event for each of `count` series of the series rule. */
export function seriesJobs(tag: string, count: number): VigilEvent[][] {
  const at = new Date().toISOString();
  const jobs: VigilEvent[][] = [];
  for (let i = 0; i < count; i += BATCH) {
    const batch: VigilEvent[] = [];
    for (let j = i; j < Math.min(count, i + BATCH); j++)
      batch.push({
        id: `${tag}-${j}`,
        source: 'manual',
        name: SERIES_EVENT,
        at,
        host: 'h0',
        labels: { key: `k${j}` },
        ok: true,
      });
    jobs.push(batch);
  }
  return jobs;
}
