import { hostname } from 'node:os';
import type { Worker } from 'bullmq';
import { createHttpServer } from './api/server.js';
import type { VigilConfig } from './config/schema.js';
import { migrate } from './db/migrate.js';
import { checkPostgres, createPool, type Pool } from './db/pool.js';
import type { VigilEvent } from './events/event.js';
import { Dispatcher } from './incidents/dispatch.js';
import { escalationProcessor } from './incidents/escalation.js';
import { IncidentStore } from './incidents/store.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import type { ChannelName, NotifyChannel } from './notify/channel.js';
import { DeliveryStore } from './notify/deliveries.js';
import { createChannels } from './notify/registry.js';
import { notifyProcessor } from './notify/worker.js';
import { Batcher } from './queues/batcher.js';
import { checkRedis, createRedis, type Redis } from './queues/connection.js';
import { closeQueues, createQueues, createWorker, type Queues } from './queues/queues.js';
import { RuleEngine } from './rules/engine.js';
import { loadRules, type RuleSet } from './rules/loader.js';
import { SeriesStore } from './rules/series.js';
import { ThresholdStore } from './rules/thresholds.js';
import { probeProcessor, scheduleProbes } from './sources/probes/worker.js';

export interface AgentOptions {
  log?: Logger;
  /** Rules already loaded (tests, `rules test`); otherwise read from config.rules.dir. */
  rules?: RuleSet;
  /** Channels to deliver through; otherwise built from config. */
  channels?: ReadonlyMap<ChannelName, NotifyChannel>;
  /** Run migrations at start (default true; they are idempotent and take an advisory lock). */
  migrate?: boolean;
  /** Serve HTTP (default true). */
  http?: boolean;
}

/** Parts that exist only between start() and close(). */
interface Running {
  pool: Pool;
  client: Redis;
  workerConn: Redis;
  queues: Queues;
  batcher: Batcher;
  probeWorker: Worker;
  workers: Worker[];
  http: ReturnType<typeof createHttpServer> | undefined;
  channels: ReadonlyMap<ChannelName, NotifyChannel>;
  incidents: IncidentStore;
  thresholds: ThresholdStore;
}

/**
 * One Vigil agent: probes → events queue → rule engine → incidents → notify/escalate queues.
 * Any number of agents sharing PostgreSQL, Redis and a key prefix share the work.
 */
export class Agent {
  readonly config: VigilConfig;
  readonly log: Logger;
  readonly metrics = new Metrics();
  readonly agentId: string;
  readonly rules: RuleSet;
  private running: Running | undefined;
  private closing: Promise<void> | undefined;
  httpUrl: string | undefined;

  constructor(
    config: VigilConfig,
    private readonly options: AgentOptions = {},
  ) {
    this.config = config;
    this.agentId = config.agentId ?? `${hostname()}-${process.pid}`;
    this.log = (options.log ?? createLogger({ level: config.log.level })).child({ agent: this.agentId });
    this.rules = options.rules ?? loadRules(config.rules.dir, config.rules.vars);
  }

  get incidents(): IncidentStore {
    return this.mustRun().incidents;
  }

  get thresholds(): ThresholdStore {
    return this.mustRun().thresholds;
  }

  private mustRun(): Running {
    if (!this.running) throw new Error('agent is not running');
    return this.running;
  }

  /** Records an observation: resolves once it is durable in the events queue. */
  ingest(event: VigilEvent): Promise<void> {
    return this.mustRun().batcher.add(event);
  }

  async start(): Promise<void> {
    const { config, log } = this;
    await checkRedis(config.redis.url);
    const pool = createPool(config.database, `vigil ${this.agentId}`);
    try {
      await checkPostgres(pool, config.database.url);
      if (this.options.migrate !== false) await migrate(pool, config.database.schema);
    } catch (err) {
      await pool.end();
      throw err;
    }
    const prefix = config.redis.prefix;
    const client = createRedis(config.redis.url, 'client', prefix);
    const workerConn = createRedis(config.redis.url, 'worker', prefix);
    const queues = createQueues(client, prefix, {
      notify: { attempts: config.notify.attempts, backoff: { type: 'vigil', delay: config.notify.backoff } },
    });
    const channels = this.options.channels ?? createChannels(config, log);
    const incidents = new IncidentStore(pool);
    const thresholds = new ThresholdStore(pool);
    const rulesById = new Map(this.rules.rules.map((r) => [r.id, r]));
    const channelNames = [...channels.keys()];
    const engine = new RuleEngine({
      rules: this.rules.rules,
      series: new SeriesStore(client),
      thresholds,
      incidents,
      dispatch: new Dispatcher(queues.notify, queues.escalate, channelNames),
      metrics: this.metrics,
      log: log.child({ component: 'rules' }),
      agentId: this.agentId,
      prefix,
    });
    const batcher = new Batcher((events) => queues.events.add('batch', { events }).then(() => undefined), {
      maxSize: config.events.batchSize,
      lingerMs: config.events.linger,
      onError: (err, events) =>
        log.error({ err: (err as Error).message, events: events.length }, 'batch not queued'),
    });
    const workerLog = log.child({ component: 'workers' });
    const probes = new Map(this.rules.probes.map((p) => [p.name, p]));
    const probeWorker = createWorker(
      'probes',
      workerConn,
      prefix,
      probeProcessor(probes, (e) => batcher.add(e)),
      {
        concurrency: 4,
        log: workerLog,
      },
    );
    const workers: Worker[] = [
      createWorker(
        'events',
        workerConn,
        prefix,
        (job) => engine.processBatch(job.data.events, `events job ${job.id}`),
        {
          concurrency: config.events.concurrency,
          log: workerLog,
          backoffBaseMs: 200,
        },
      ),
      createWorker(
        'notify',
        workerConn,
        prefix,
        notifyProcessor({
          channels,
          incidents,
          deliveries: new DeliveryStore(pool),
          metrics: this.metrics,
          log: log.child({ component: 'notify' }),
          publicUrl: config.publicUrl,
        }),
        { concurrency: config.notify.concurrency, log: workerLog, backoffBaseMs: config.notify.backoff },
      ),
      createWorker(
        'escalate',
        workerConn,
        prefix,
        escalationProcessor({
          incidents,
          rules: rulesById,
          notifyQueue: queues.notify,
          channels: channelNames,
          agentId: this.agentId,
          log: log.child({ component: 'escalate' }),
        }),
        { concurrency: 2, log: workerLog },
      ),
    ];
    const http =
      this.options.http === false
        ? undefined
        : createHttpServer({
            host: config.http.host,
            port: config.http.port,
            metrics: this.metrics,
            agentId: this.agentId,
            log,
            checks: [
              { name: 'postgres', check: async () => void (await pool.query('SELECT 1')) },
              { name: 'redis', check: async () => void (await client.ping()) },
            ],
          });
    this.running = {
      pool,
      client,
      workerConn,
      queues,
      batcher,
      probeWorker,
      workers,
      http,
      channels,
      incidents,
      thresholds,
    };
    for (const w of [...workers, probeWorker]) {
      void w.run();
      await w.waitUntilReady();
    }
    await scheduleProbes(queues.probes, probes.values());
    if (http) this.httpUrl = await http.listen({ host: config.http.host, port: config.http.port });
    log.info(
      { rules: this.rules.rules.length, probes: probes.size, channels: channelNames, http: this.httpUrl },
      'agent started',
    );
  }

  /**
   * Stops in dependency order — sources, HTTP, workers, queues, connections — so nothing in flight
   * loses its way out. Idempotent: every caller gets the same promise.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const r = this.running;
    if (!r) return;
    await r.probeWorker.close();
    await r.batcher.close();
    await r.http?.close();
    await Promise.allSettled(r.workers.map((w) => w.close()));
    await closeQueues(r.queues);
    await Promise.allSettled([...r.channels.values()].map((c) => c.close()));
    await Promise.allSettled([r.client.quit(), r.workerConn.quit()]);
    await r.pool.end();
    this.running = undefined;
    this.log.info('agent stopped');
  }
}
