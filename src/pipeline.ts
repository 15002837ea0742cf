import type { Worker } from 'bullmq';
import type { VigilConfig } from './config/schema.js';
import type { Pool } from './db/pool.js';
import { Dispatcher } from './incidents/dispatch.js';
import { escalationProcessor } from './incidents/escalation.js';
import { IncidentStore } from './incidents/store.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { ChannelName, NotifyChannel } from './notify/channel.js';
import { DeliveryStore } from './notify/deliveries.js';
import { notifyProcessor } from './notify/worker.js';
import { Batcher } from './queues/batcher.js';
import type { Redis } from './queues/connection.js';
import { createWorker, type Queues } from './queues/queues.js';
import { RuleEngine } from './rules/engine.js';
import type { RuleSet } from './rules/loader.js';
import { SeriesStore } from './rules/series.js';
import { ThresholdStore } from './rules/thresholds.js';
import { probeProcessor } from './sources/probes/worker.js';

export interface PipelineDeps {
  config: VigilConfig;
  rules: RuleSet;
  pool: Pool;
  client: Redis;
  workerConn: Redis;
  queues: Queues;
  channels: ReadonlyMap<ChannelName, NotifyChannel>;
  metrics: Metrics;
  log: Logger;
  agentId: string;
}

export interface Pipeline {
  /** Where sources put events; flushes batches onto the events queue. */
  batcher: Batcher;
  /** The probe worker is a source: it stops first on shutdown. */
  probeWorker: Worker;
  /** events → rules, notify, escalate. */
  workers: Worker[];
  incidents: IncidentStore;
  thresholds: ThresholdStore;
}

/** Wires the stages of DESIGN.md's data flow to their queues; nothing runs until the workers do. */
export function buildPipeline(d: PipelineDeps): Pipeline {
  const { config, queues, log } = d;
  const prefix = config.redis.prefix;
  const incidents = new IncidentStore(d.pool);
  const thresholds = new ThresholdStore(d.pool, log.child({ component: 'thresholds' }));
  const workerLog = log.child({ component: 'workers' });
  const dispatch = new Dispatcher(queues.notify, queues.escalate, [...d.channels.keys()]);
  const engine = new RuleEngine({
    rules: d.rules.rules,
    series: new SeriesStore(d.client),
    thresholds,
    incidents,
    dispatch,
    metrics: d.metrics,
    log: log.child({ component: 'rules' }),
    agentId: d.agentId,
    prefix,
    maxFutureSkewMs: config.events.maxFutureSkew,
  });
  const batcher = new Batcher((events) => queues.events.add('batch', { events }).then(() => undefined), {
    maxSize: config.events.batchSize,
    lingerMs: config.events.linger,
    maxInFlight: config.events.maxInFlight,
    maxBuffered: config.events.maxBuffered,
    onError: (err, events) =>
      log.error({ err: (err as Error).message, events: events.length }, 'batch not queued'),
  });
  const probes = new Map(d.rules.probes.map((p) => [p.name, p]));
  const probeWorker = createWorker(
    'probes',
    d.workerConn,
    prefix,
    probeProcessor(probes, (e) => batcher.add(e)),
    {
      concurrency: 4,
      log: workerLog,
    },
  );
  const events = createWorker(
    'events',
    d.workerConn,
    prefix,
    (job) => engine.processBatch(job.data.events, `events job ${job.id}`),
    {
      concurrency: config.events.concurrency,
      log: workerLog,
      backoffBaseMs: 200,
    },
  );
  const notify = createWorker(
    'notify',
    d.workerConn,
    prefix,
    notifyProcessor({
      channels: d.channels,
      incidents,
      deliveries: new DeliveryStore(d.pool),
      metrics: d.metrics,
      log: log.child({ component: 'notify' }),
      publicUrl: config.publicUrl,
      queue: queues.notify,
    }),
    { concurrency: config.notify.concurrency, log: workerLog, backoffBaseMs: config.notify.backoff },
  );
  const escalate = createWorker(
    'escalate',
    d.workerConn,
    prefix,
    escalationProcessor({
      incidents,
      rules: new Map(d.rules.rules.map((r) => [r.id, r])),
      dispatch,
      agentId: d.agentId,
      log: log.child({ component: 'escalate' }),
    }),
    { concurrency: 2, log: workerLog },
  );
  return { batcher, probeWorker, workers: [events, notify, escalate], incidents, thresholds };
}
