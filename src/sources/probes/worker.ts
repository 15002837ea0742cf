import { hostname } from 'node:os';
import type { Job, Queue } from 'bullmq';
import { VigilError } from '../../errors.js';
import type { VigilEvent } from '../../events/event.js';
import { jobIds, type QueuePayloads } from '../../queues/names.js';
import { runProbe } from './registry.js';
import type { ProbeSpec } from './schema.js';

/** Turns one probe run into one event; the run's job id makes the event id deterministic. */
export function probeProcessor(
  probes: ReadonlyMap<string, ProbeSpec>,
  record: (event: VigilEvent) => Promise<void>,
) {
  const host = hostname();
  return async (job: Job<QueuePayloads['probes']>): Promise<boolean> => {
    const spec = probes.get(job.data.probe);
    if (!spec)
      throw new VigilError(
        'E_PROBE_UNKNOWN',
        `probe "${job.data.probe}" is not defined by this agent's rules`,
      );
    const outcome = await runProbe(spec);
    await record({
      id: `probe:${spec.name}:${job.id ?? job.timestamp}`,
      source: 'probe',
      name: spec.name,
      // The time the scheduler planned this run, the same for every agent and every re-run of it:
      // a run re-done after a crash is then the same event (same id, same time), not a second
      // failure, and one agent's clock skew cannot make other agents' results look stale.
      at: new Date(job.opts.prevMillis ?? job.timestamp).toISOString(),
      host,
      labels: { probe: spec.name, ...spec.labels },
      value: outcome.value,
      ok: outcome.ok,
      data: outcome.data,
    });
    return outcome.ok;
  };
}

/**
 * One BullMQ job scheduler per probe: however many agents upsert it, each interval produces one
 * job, run by one of them. Schedulers of probes the rules no longer define are removed, or they
 * would keep producing jobs nobody can run. Returns the ids of those removed.
 */
export async function scheduleProbes(
  queue: Queue<QueuePayloads['probes']>,
  probes: Iterable<ProbeSpec>,
): Promise<string[]> {
  const wanted = new Set<string>();
  for (const spec of probes) {
    const id = jobIds.probeScheduler(spec.name);
    wanted.add(id);
    await queue.upsertJobScheduler(id, { every: spec.every }, { name: 'probe', data: { probe: spec.name } });
  }
  const removed: string[] = [];
  for (const scheduler of await queue.getJobSchedulers()) {
    if (wanted.has(scheduler.key)) continue;
    await queue.removeJobScheduler(scheduler.key);
    removed.push(scheduler.key);
  }
  return removed;
}
