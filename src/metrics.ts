type Labels = Record<string, string>;

function key(name: string, labels: Labels): string {
  const parts = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

/** In-process counters and gauges, rendered in the Prometheus text format at /metrics. */
export class Metrics {
  private readonly counters = new Map<string, { name: string; value: number }>();
  private readonly gauges = new Map<string, { name: string; read: () => number }>();

  inc(name: string, labels: Labels = {}, by = 1): void {
    const k = key(name, labels);
    const entry = this.counters.get(k);
    if (entry) entry.value += by;
    else this.counters.set(k, { name, value: by });
  }

  gauge(name: string, labels: Labels, read: () => number): void {
    this.gauges.set(key(name, labels), { name, read });
  }

  /** One observation of a distribution, as its Prometheus `_sum` and `_count`. */
  observe(name: string, labels: Labels, value: number): void {
    this.inc(`${name}_sum`, labels, value);
    this.inc(`${name}_count`, labels);
  }

  value(name: string, labels: Labels = {}): number {
    return this.counters.get(key(name, labels))?.value ?? 0;
  }

  render(): string {
    const lines: string[] = [];
    const typed = new Set<string>();
    const emit = (k: string, name: string, type: string, v: number) => {
      if (!typed.has(name)) lines.push(`# TYPE ${name} ${type}`);
      typed.add(name);
      lines.push(`${k} ${v}`);
    };
    // Sorted by series key, so each metric's lines stay together under its TYPE line.
    const byKey = <T>(m: Map<string, T>) => [...m].sort(([a], [b]) => a.localeCompare(b));
    for (const [k, c] of byKey(this.counters)) emit(k, c.name, 'counter', c.value);
    for (const [k, g] of byKey(this.gauges)) emit(k, g.name, 'gauge', g.read());
    return `${lines.join('\n')}\n`;
  }
}
