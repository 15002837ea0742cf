import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { VigilError } from './errors.js';
import { catalogue, specOf, type MetricName, type MetricSpec } from './metric-catalogue.js';

export type Labels = Readonly<Record<string, string>>;
/** A gauge's value, read when /metrics is scraped. */
export type GaugeReader = () => number | Promise<number>;

function seriesKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

/** Resolves with the reader's value, or NaN when it fails or does not answer in time. */
async function readBounded(read: GaugeReader, timeoutMs: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(read),
      new Promise<number>((resolve) => {
        timer = setTimeout(() => resolve(Number.NaN), timeoutMs);
        timer.unref();
      }),
    ]);
  } catch {
    return Number.NaN;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One agent's metrics on its own prom-client registry (several agents can share a process), in the
 * Prometheus text format with HELP and TYPE from the catalogue. A gauge that cannot be read within
 * `readTimeoutMs` (Redis or PostgreSQL away) shows NaN instead of holding up the scrape.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly counters = new Map<MetricName, Counter>();
  private readonly histograms = new Map<MetricName, Histogram>();
  private readonly gauges = new Map<MetricName, Map<string, { labels: Labels; read: GaugeReader }>>();
  /** Counter values by series, for `value()`: prom-client only reads them asynchronously. */
  private readonly tallies = new Map<string, number>();
  private readonly readTimeoutMs: number;

  constructor(options: { readTimeoutMs?: number } = {}) {
    this.readTimeoutMs = options.readTimeoutMs ?? 2000;
    const registers = [this.registry];
    for (const [name, spec] of Object.entries(catalogue) as [MetricName, MetricSpec][]) {
      const common = { name, help: spec.help, labelNames: [...spec.labels], registers };
      if (spec.type === 'counter') this.counters.set(name, new Counter(common));
      if (spec.type === 'histogram')
        this.histograms.set(name, new Histogram({ ...common, buckets: [...(spec.buckets ?? [])] }));
    }
  }

  inc(name: MetricName, labels: Labels = {}, by = 1): void {
    check(name, 'counter', labels);
    (this.counters.get(name) as Counter).inc(labels, by);
    const k = `${name}${seriesKey(labels)}`;
    this.tallies.set(k, (this.tallies.get(k) ?? 0) + by);
  }

  /** Registers (or replaces) the reader of one series of a gauge. */
  gauge(name: MetricName, labels: Labels, read: GaugeReader): void {
    const spec = check(name, 'gauge', labels);
    let series = this.gauges.get(name);
    if (!series) {
      const readers = new Map<string, { labels: Labels; read: GaugeReader }>();
      series = readers;
      this.gauges.set(name, readers);
      const timeoutMs = this.readTimeoutMs;
      // Created with its first reader: a gauge without labels would otherwise show a false 0.
      new Gauge({
        name,
        help: spec.help,
        labelNames: [...spec.labels],
        registers: [this.registry],
        async collect() {
          const values = await Promise.all(
            [...readers.values()].map(async (r) => [r.labels, await readBounded(r.read, timeoutMs)] as const),
          );
          this.reset();
          for (const [l, v] of values) this.set(l, v);
        },
      });
    }
    series.set(seriesKey(labels), { labels, read });
  }

  /** Histogram observation; durations are in seconds. */
  observe(name: MetricName, labels: Labels, value: number): void {
    check(name, 'histogram', labels);
    (this.histograms.get(name) as Histogram).observe(labels, value);
  }

  /** A counter's current value (0 if never incremented). */
  value(name: MetricName, labels: Labels = {}): number {
    check(name, 'counter', labels);
    return this.tallies.get(`${name}${seriesKey(labels)}`) ?? 0;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** A wrong name, type or label set is a bug in the caller: fail where it happens, loudly. */
function check(name: string, type: MetricSpec['type'], labels: Labels): MetricSpec {
  const spec = specOf(name);
  if (!spec) throw new VigilError('E_METRIC', `unknown metric ${name}: add it to src/metric-catalogue.ts`);
  if (spec.type !== type) throw new VigilError('E_METRIC', `${name} is a ${spec.type}, not a ${type}`);
  const given = Object.keys(labels).sort();
  const expected = [...spec.labels].sort();
  if (given.join(',') !== expected.join(',') || Object.values(labels).some((v) => typeof v !== 'string')) {
    throw new VigilError(
      'E_METRIC',
      `${name} takes labels {${expected.join(', ')}} (strings), got {${given.join(', ')}}`,
    );
  }
  return spec;
}

/**
 * For gauges fed by one query: the readers of one scrape (they start together) share one load,
 * and while a load is still running (its server away) later scrapes wait on it instead of
 * starting another, so an outage holds one pending command per source, not one per scrape.
 */
export function sharedLoad<T>(load: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    running ??= load().finally(() => (running = undefined));
    return running;
  };
}
