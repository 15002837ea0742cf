import { hostname } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import type { Job } from 'bullmq';
import { VigilError } from '../../errors.js';
import type { VigilEvent } from '../../contracts/event.js';
import type { Logger } from '../../log.js';
import type { Metrics } from '../../metrics.js';
import type { QueuePayloads } from '../../contracts/queues.js';
import { runProbe } from './registry.js';
import { clusterProbeSchema, type ClusterProbeSpec, type ProbeSpec } from './schema.js';

/**
 * When a scheduler planned this run. BullMQ 6.7 names each run `repeat:<schedulerId>:<millis>` and
 * sets neither `opts.prevMillis` nor a usable `delay` on runs after the first (delay is 0 by the
 * time a worker sees it, so `timestamp + delay` is when the previous run was taken): the id is the
 * one place that holds the planned time of every run. A job added by hand has its creation time.
 */
export function plannedAt(job: Pick<Job, 'id' | 'timestamp' | 'opts'>): number {
  const planned = /^repeat:.+:(\d+)$/.exec(job.id ?? '')?.[1];
  return planned === undefined ? (job.opts.prevMillis ?? job.timestamp) : Number(planned);
}

export interface ProbeWorkerDeps {
  /** Resolves once the event is durable in the events queue. */
  record: (event: VigilEvent) => Promise<void>;
  metrics: Metrics;
  /**
   * This agent's own probes. A command or SQL probe runs only when its job carries exactly the spec
   * this agent's rules define: whoever can write to Redis must not get to pick a program or a query.
   * Read at each run, so a rule reload applies to the next run.
   */
  own?: () => readonly ProbeSpec[];
  log?: Logger;
}

/** Kinds whose spec says what to execute (a program, a query), not merely what to look at. */
const executing: ReadonlySet<string> = new Set(['command', 'sql']);

/**
 * Runs the probe a job carries (its scheduler's template holds the full spec, so any agent can run
 * any probe) and turns the run into one event. A spec that does not validate fails its job alone.
 */
export function probeProcessor({ record, metrics, own = () => [], log }: ProbeWorkerDeps) {
  const host = hostname();
  const invalid = (name: string, message: string) => {
    metrics.inc('vigil_probe_runs_total', { probe: name, outcome: 'invalid' });
    return new VigilError('E_PROBE_SPEC', message);
  };
  return async (job: Job<QueuePayloads['probes']>): Promise<boolean> => {
    const name = typeof job.data.probe === 'string' ? job.data.probe : 'unknown';
    const parsed = clusterProbeSchema.safeParse(job.data.spec);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(spec)'}: ${i.message}`);
      throw invalid(name, `probe "${name}" (job ${job.id}) carries an invalid spec: ${problems.join('; ')}`);
    }
    const spec: ClusterProbeSpec = parsed.data;
    if (executing.has(spec.kind) && !own().some((p) => isDeepStrictEqual(p, spec)))
      throw invalid(
        name,
        `${spec.kind} probe "${name}" (job ${job.id}) is not defined exactly so in this agent's rules; not run`,
      );
    const planned = plannedAt(job);
    // A run that starts more than an interval after its plan (no agent was up to take it) observes
    // the target as it is now, not as it was then: it is dated when it ran, so an incident does not
    // start or resolve at a time nobody looked.
    const started = Date.now();
    const observedAt = started - planned > spec.every ? started : planned;
    const outcome = await runProbe(spec, log);
    const seconds = (Date.now() - started) / 1000;
    await record({
      // The same for every agent and every re-run of one planned run: a run re-done after a crash is
      // then the same event (same id, same time), not a second failure, and one agent's clock skew
      // cannot make other agents' results look stale.
      id: `probe:${spec.name}:${planned}`,
      source: 'probe',
      name: spec.name,
      at: new Date(observedAt).toISOString(),
      host,
      labels: { probe: spec.name, ...spec.labels },
      value: outcome.value,
      ok: outcome.ok,
      data: outcome.data,
    });
    metrics.inc('vigil_probe_runs_total', { probe: spec.name, outcome: outcome.ok ? 'ok' : 'failed' });
    metrics.observe('vigil_probe_duration_seconds', { probe: spec.name }, seconds);
    return outcome.ok;
  };
}
