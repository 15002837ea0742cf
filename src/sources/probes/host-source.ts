import { hostname } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import type { Emit, Source } from '../../contracts/source.js';
import { errorMessage } from '../../errors.js';
import type { RuleSet } from '../../rules/loader.js';
import type { SourceContext, SourceKind } from '../kind.js';
import type { ProbeOutcome } from './fields.js';
import { hostProbeRunner } from './registry.js';
import { hostProbes } from './scheduler.js';
import {
  hostProbeKinds,
  hostProbesSourceSchema,
  type HostProbeSpec,
  type HostProbesSourceSpec,
} from './schema.js';

/**
 * This host's process and system probes, each on a local timer: no other agent can see this host's
 * processes, so these do not go through the cluster's queue. Runs fall on multiples of `every`, so
 * a run's id (`probe:<name>:<host>:<planned>`) is the same whoever restarts when.
 */
class HostProbesSource implements Source {
  readonly kind = 'host-probes';
  readonly ownership = 'host-bound';
  readonly name: string;
  private readonly host = hostname();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Map<string, Promise<void>>();
  /** The specs being run, by name. */
  private readonly specs = new Map<string, HostProbeSpec>();
  private emit: Emit | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    spec: HostProbesSourceSpec,
    private readonly ctx: SourceContext,
  ) {
    this.name = spec.name;
  }

  start(emit: Emit): Promise<void> {
    this.emit = emit;
    for (const spec of hostProbes(this.ctx.rules)) this.begin(spec);
    return Promise.resolve();
  }

  /**
   * The rules were reloaded: a dropped or changed probe's timer stops (a run in flight still
   * emits), a new or changed one starts. Only this agent runs these, so nothing is left behind.
   */
  rulesChanged(rules: RuleSet): Promise<void> {
    const next = new Map(hostProbes(rules).map((p) => [p.name, p]));
    for (const [name, spec] of this.specs) {
      if (isDeepStrictEqual(next.get(name), spec)) continue;
      clearTimeout(this.timers.get(name));
      this.timers.delete(name);
      this.specs.delete(name);
    }
    for (const spec of next.values()) if (!this.specs.has(spec.name)) this.begin(spec);
    return Promise.resolve();
  }

  private begin(spec: HostProbeSpec): void {
    this.specs.set(spec.name, spec);
    this.plan(spec, hostProbeRunner(spec, this.ctx.log), Date.now());
  }

  /** Sets the timer for the first multiple of `every` after `after`. */
  private plan(spec: HostProbeSpec, run: () => Promise<ProbeOutcome>, after: number): void {
    if (this.closed) return;
    const planned = (Math.floor(after / spec.every) + 1) * spec.every;
    const timer = setTimeout(() => {
      this.fire(spec, run, planned);
      this.plan(spec, run, Math.max(Date.now(), planned));
    }, planned - Date.now());
    this.timers.set(spec.name, timer);
  }

  private fire(spec: HostProbeSpec, run: () => Promise<ProbeOutcome>, planned: number): void {
    const { metrics, log } = this.ctx;
    // A run still going when the next is due (a slow /proc, an emit waiting on Redis) is not
    // stacked on: that slot is skipped and counted.
    if (this.inFlight.has(spec.name)) {
      metrics.inc('vigil_probe_runs_total', { probe: spec.name, outcome: 'skipped' });
      return;
    }
    const going = this.runOnce(spec, run, planned)
      .catch((err: unknown) =>
        log.warn({ probe: spec.name, err: errorMessage(err) }, 'host probe run not recorded'),
      )
      .finally(() => this.inFlight.delete(spec.name));
    this.inFlight.set(spec.name, going);
  }

  private async runOnce(
    spec: HostProbeSpec,
    run: () => Promise<ProbeOutcome>,
    planned: number,
  ): Promise<void> {
    const { metrics } = this.ctx;
    const started = Date.now();
    const outcome = await run();
    metrics.observe('vigil_probe_duration_seconds', { probe: spec.name }, (Date.now() - started) / 1000);
    await (this.emit as Emit)([
      {
        id: `probe:${spec.name}:${this.host}:${planned}`,
        source: 'probe',
        name: spec.name,
        at: new Date(planned).toISOString(),
        host: this.host,
        labels: { probe: spec.name, host: this.host, ...spec.labels },
        value: outcome.value,
        ok: outcome.ok,
        data: outcome.data,
      },
    ]);
    metrics.inc('vigil_probe_runs_total', { probe: spec.name, outcome: outcome.ok ? 'ok' : 'failed' });
  }

  /** Stops the timers and waits for the runs in flight to be emitted. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      for (const t of this.timers.values()) clearTimeout(t);
      this.timers.clear();
      await Promise.all(this.inFlight.values());
    })();
    return this.closing;
  }
}

export const hostProbesKind: SourceKind<HostProbesSourceSpec> = {
  kind: 'host-probes',
  ownership: 'host-bound',
  schema: hostProbesSourceSchema,
  produces: ['probe'],
  runsProbes: hostProbeKinds,
  create: (spec, ctx) => new HostProbesSource(spec, ctx),
};
