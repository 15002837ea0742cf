import { isDeepStrictEqual } from 'node:util';
import type { Queue } from 'bullmq';
import { errorMessage } from '../../errors.js';
import type { Health } from '../../health.js';
import type { Logger } from '../../log.js';
import type { Redis } from '../../queues/connection.js';
import { jobIds, type QueuePayloads } from '../../contracts/queues.js';
import type { RuleSet } from '../../rules/loader.js';
import { isHostProbe, type ClusterProbeSpec, type HostProbeSpec } from './schema.js';
import { plannedAt } from './worker.js';

/**
 * The probes an agent schedules for the cluster: those of its enabled rules (a disabled rule
 * schedules nothing), except this host's process and system probes (see hostProbes).
 */
export function scheduledProbes(rules: RuleSet): ClusterProbeSpec[] {
  return rules.rules.flatMap((r) => (r.enabled && r.probe && !isHostProbe(r.probe) ? [r.probe] : []));
}

/** The process and system probes of the enabled rules: each agent runs them on its own host. */
export function hostProbes(rules: RuleSet): HostProbeSpec[] {
  return rules.rules.flatMap((r) => (r.enabled && r.probe && isHostProbe(r.probe) ? [r.probe] : []));
}

/**
 * Per scheduler id: the planned time of its next run ('' when the scheduler is gone) and whether
 * that run's job exists. Both in one atomic read, so a run taken between two reads is not mistaken
 * for a lost one. A scheduler whose next job is gone (a failover that lost writes) would never run
 * again: BullMQ plans each run when the previous one is taken.
 * KEYS[1]: the queue's `repeat` set. ARGV[1]: the queue's key prefix; ARGV[2..]: scheduler ids.
 */
const inspectScript = `
local out = {}
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  local exists = 0
  if score then
    exists = redis.call('EXISTS', ARGV[1] .. 'repeat:' .. ARGV[i] .. ':' .. tonumber(score))
  end
  table.insert(out, score or '')
  table.insert(out, exists)
end
return out`;

export interface ProbeSchedulerDeps {
  queue: Queue<QueuePayloads['probes']>;
  /** The queue's connection: a 'ready' after a reconnect may mean a Redis that lost everything. */
  redis: Redis;
  probes: readonly ClusterProbeSpec[];
  /** How often the schedules are checked between reconnects. */
  reassertEvery: number;
  health: Health;
  log: Logger;
}

/**
 * Keeps one BullMQ job scheduler per probe as desired state: upserted at start (so the agent started
 * last defines a probe's spec), then checked on every Redis reconnect and on a slow timer, and
 * re-created where missing. It never removes a scheduler, not even when a rule reload drops its
 * probe: another agent with another rule set may own it (`vigil probes prune` does that on purpose).
 */
export class ProbeScheduler {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private again = false;
  private closed = false;
  /** Probes whose scheduler was re-created → planned time of its first run; cleared once it is taken. */
  private readonly healing = new Map<string, number>();
  private readonly onReady = () => void this.reassert();
  private probes: readonly ClusterProbeSpec[];

  constructor(private readonly deps: ProbeSchedulerDeps) {
    this.probes = deps.probes;
  }

  async start(): Promise<void> {
    const { redis, reassertEvery } = this.deps;
    const probes = this.probes;
    // Re-upserting an existing scheduler with the same interval keeps its planned run (BullMQ swaps
    // the delayed job for one with the same id and time): no shifted or doubled run, new spec applied.
    for (const spec of probes) await this.upsert(spec);
    if (this.closed) return;
    redis.on('ready', this.onReady);
    this.timer = setInterval(this.onReady, reassertEvery);
  }

  /**
   * The rules were reloaded: new probes and probes whose spec changed are upserted now (the new spec
   * applies from the next run), and the checks watch the new list. A dropped probe's scheduler
   * stays (see the class comment); it is no longer re-created here if it goes missing.
   */
  async replace(probes: readonly ClusterProbeSpec[]): Promise<void> {
    const before = new Map(this.probes.map((p) => [p.name, p]));
    this.probes = probes;
    for (const name of this.healing.keys())
      if (!probes.some((p) => p.name === name)) this.healing.delete(name);
    for (const spec of probes) {
      if (this.closed) return;
      if (!isDeepStrictEqual(before.get(spec.name), spec)) await this.upsert(spec);
    }
  }

  /** Checks every schedule now and re-creates what is missing; calls during a check share it. */
  reassert(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.pass) {
      this.again = true;
      return this.pass;
    }
    this.pass = this.check()
      .catch((err: unknown) => {
        if (!this.closed) this.deps.log.warn({ err: errorMessage(err) }, 'probe schedules not checked');
      })
      .finally(() => {
        this.pass = undefined;
        if (this.again) {
          this.again = false;
          void this.reassert();
        }
      });
    return this.pass;
  }

  /**
   * Stops checking. A check in flight is not awaited: while Redis is away it waits for the
   * reconnect, and whatever it does then is what start() would do.
   */
  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.deps.redis.off('ready', this.onReady);
    return Promise.resolve();
  }

  private async check(): Promise<void> {
    const { queue, redis, health, log } = this.deps;
    const probes = this.probes;
    if (probes.length === 0) return;
    const ids = probes.map((p) => jobIds.probeScheduler(p.name));
    const reply = (await redis.eval(
      inspectScript,
      1,
      queue.toKey('repeat'),
      queue.toKey(''),
      ...ids,
    )) as Array<string | number>;
    const missing: ClusterProbeSpec[] = [];
    probes.forEach((spec, i) => {
      const next = reply[2 * i];
      if (next === '' || reply[2 * i + 1] !== 1) return void missing.push(spec);
      const first = this.healing.get(spec.name);
      if (first !== undefined && Number(next) > first) this.healing.delete(spec.name);
    });
    for (const spec of missing) {
      if (this.closed) return;
      this.healing.set(spec.name, await this.upsert(spec));
    }
    if (missing.length) {
      log.warn(
        { probes: missing.map((p) => p.name) },
        'probe schedules had gone missing (Redis flushed, restarted empty or failed over?); re-created',
      );
    }
    health.set(
      'probes',
      this.healing.size
        ? `schedules of probes ${[...this.healing.keys()].join(', ')} had gone missing; re-created, waiting for their next run`
        : undefined,
    );
  }

  /** Returns the planned time of the scheduler's next run. */
  private async upsert(spec: ClusterProbeSpec): Promise<number> {
    const job = await this.deps.queue.upsertJobScheduler(
      jobIds.probeScheduler(spec.name),
      { every: spec.every },
      { name: 'probe', data: { probe: spec.name, spec } },
    );
    return plannedAt(job);
  }
}
