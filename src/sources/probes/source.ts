import type { Worker } from 'bullmq';
import type { Emit, Source } from '../../contracts/source.js';
import type { RuleSet } from '../../rules/loader.js';
import { createWorker } from '../../queues/queues.js';
import type { SourceContext, SourceKind } from '../kind.js';
import { ProbeScheduler, scheduledProbes } from './scheduler.js';
import { clusterProbeKinds, probesSourceSchema, type ProbesSourceSpec } from './schema.js';
import { probeProcessor } from './worker.js';

/**
 * The rules' probes as one source: a BullMQ job scheduler per probe plans one run per interval for
 * the whole cluster, and every agent's probe worker takes runs as it has room.
 */
class ProbesSource implements Source {
  readonly kind = 'probes';
  readonly ownership = 'cluster-scheduled';
  readonly name: string;
  private scheduler: ProbeScheduler | undefined;
  private worker: Worker | undefined;
  private rules: RuleSet;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly spec: ProbesSourceSpec,
    private readonly ctx: SourceContext,
  ) {
    this.name = spec.name;
    this.rules = ctx.rules;
  }

  async start(emit: Emit): Promise<void> {
    const { ctx, spec } = this;
    this.worker = createWorker(
      'probes',
      ctx.workerConn,
      ctx.config.redis.prefix,
      probeProcessor({
        record: (e) => emit([e]),
        metrics: ctx.metrics,
        own: () => this.rules.probes,
        log: ctx.log,
      }),
      { concurrency: spec.concurrency, log: ctx.log },
    );
    void this.worker.run();
    await this.worker.waitUntilReady();
    this.scheduler = new ProbeScheduler({
      queue: ctx.queues.probes,
      redis: ctx.client,
      probes: scheduledProbes(this.rules),
      reassertEvery: spec.reassertEvery,
      health: ctx.health,
      log: ctx.log,
    });
    await this.scheduler.start();
  }

  /** New and changed probes are scheduled now; see ProbeScheduler.replace for removed ones. */
  async rulesChanged(rules: RuleSet): Promise<void> {
    this.rules = rules;
    await this.scheduler?.replace(scheduledProbes(rules));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.scheduler?.close();
      await this.worker?.close();
    })();
    return this.closing;
  }
}

export const probesKind: SourceKind<ProbesSourceSpec> = {
  kind: 'probes',
  ownership: 'cluster-scheduled',
  schema: probesSourceSchema,
  produces: ['probe'],
  runsProbes: clusterProbeKinds,
  create: (spec, ctx) => new ProbesSource(spec, ctx),
};
