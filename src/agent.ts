import { hostname } from 'node:os';
import { createHttpServer, listenHttp } from './api/server.js';
import { ackLinksFor, oncallHttpDeps } from './api/oncall-http.js';
import { SlackSocket } from './api/slack-socket.js';
import type { VigilConfig } from './config/schema.js';
import { ConnectionWatch } from './connection-watch.js';
import { migrate } from './db/migrate.js';
import { checkPostgres, createPool, type Pool } from './db/pool.js';
import { ChannelFailedError, errorMessage } from './errors.js';
import type { VigilEvent } from './contracts/event.js';
import { registerIncidentMetrics } from './incidents/incident-metrics.js';
import type { IncidentActions } from './incidents/actions.js';
import type { IncidentStore } from './incidents/store.js';
import { Health } from './health.js';
import { createLogger, redactUrl, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import type { ChannelName } from './contracts/channels.js';
import type { NotifyChannel } from './notify/channel.js';
import { createChannels } from './notify/registry.js';
import { reportTargets } from './notify/reachability-report.js';
import { buildPipeline, type Pipeline } from './pipeline.js';
import { adoptLegacyNotifyJobs } from './queues/legacy-notify.js';
import { checkRedis, createRedis, type Redis } from './queues/connection.js';
import { registerQueueMetrics } from './queues/queue-metrics.js';
import { allQueues, closeQueues, createQueues, type Queues } from './queues/queues.js';
import { loadRules, type RuleSet } from './rules/loader.js';
import { RuleWatcher, type ReloadResult } from './rules/reload.js';
import { listenForThresholds } from './rules/threshold-listener.js';
import type { ThresholdStore } from './rules/thresholds.js';
import type { PgListener } from './sources/postgres/listener.js';
import type { Source } from './contracts/source.js';
import { applyRules, ruleWarnings } from './agent-rules.js';
import { sourceKinds } from './sources/registry.js';
import { preflight } from './remediate/preflight.js';

export interface AgentOptions {
  log?: Logger;
  /** Rules already loaded (tests, `rules test`); otherwise read from config.rules.dir. */
  rules?: RuleSet;
  /**
   * Reload the rules when a file of config.rules.dir changes (default: only when the agent read them
   * from there itself, not when given `rules`). reloadRules() works either way.
   */
  watchRules?: boolean;
  /** Channels to deliver through; otherwise built from config. */
  channels?: ReadonlyMap<ChannelName, NotifyChannel>;
  /** Run migrations at start (default true; they are idempotent and take an advisory lock). */
  migrate?: boolean;
  /** Serve HTTP (default true). */
  http?: boolean;
}

/** Parts that exist only between start() and close(). */
interface Running extends Pipeline {
  pool: Pool;
  notifyPool: Pool;
  client: Redis;
  workerConn: Redis;
  /** Only when vigil.yaml configures remediation targets: nothing could run otherwise. */
  remediateConn: Redis | undefined;
  queues: Queues;
  http: ReturnType<typeof createHttpServer> | undefined;
  slackSocket: SlackSocket | undefined;
  channels: ReadonlyMap<ChannelName, NotifyChannel>;
  sources: Source[];
  thresholdListener: PgListener;
  ruleWatcher: RuleWatcher;
}

/**
 * One Vigil agent: probes → events queue → rule engine → incidents → notify/escalate queues.
 * Any number of agents sharing PostgreSQL, Redis and a key prefix share the work.
 */
export class Agent {
  readonly config: VigilConfig;
  readonly log: Logger;
  readonly metrics = new Metrics();
  /** Why this agent is degraded, by component; /healthz reports it. */
  readonly health = new Health();
  readonly agentId: string;
  private ruleSet: RuleSet;
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
    this.ruleSet = options.rules ?? this.loadRules();
    // A degraded agent says so in its log too, once when it starts and once when it ends: /healthz
    // is only seen by whoever polls it.
    const healthLog = this.log.child({ component: 'health' });
    const degraded = new Set<string>();
    this.health.on('change', (component, problem) => {
      if (problem && !degraded.has(component)) healthLog.warn({ part: component, problem }, 'degraded');
      else if (!problem && degraded.delete(component)) healthLog.info({ part: component }, 'recovered');
      if (problem) degraded.add(component);
    });
  }

  /** The rule set running now: the one loaded at start, or the last good reload. */
  get rules(): RuleSet {
    return this.ruleSet;
  }

  private loadRules(): RuleSet {
    const { rules } = this.config;
    return loadRules(rules.dir, rules.vars, process.env, rules.envPrefix);
  }

  /** Re-reads the rule files now (SIGHUP); a bad set keeps the running one, see RuleWatcher. */
  async reloadRules(why = 'requested'): Promise<ReloadResult> {
    return this.mustRun().ruleWatcher.reload(why);
  }

  get incidents(): IncidentStore {
    return this.mustRun().incidents;
  }

  /** Acknowledge, resolve, …: what the API, Slack buttons and email links do. */
  get actions(): IncidentActions {
    return this.mustRun().actions;
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
    const watch = (dependency: 'redis' | 'postgres', url: string) =>
      new ConnectionWatch(dependency, redactUrl(url), log, this.metrics);
    const pgWatch = watch('postgres', config.database.url);
    const redisWatch = watch('redis', config.redis.url);
    const pool = createPool(config.database, `vigil ${this.agentId}`, pgWatch.connection('pool'));
    try {
      await checkPostgres(pool, config.database.url);
      if (this.options.migrate !== false) await migrate(pool, config.database.schema);
    } catch (err) {
      await pool.end();
      throw err;
    }
    const notifyPool = createPool(
      config.database,
      `vigil ${this.agentId} notify`,
      pgWatch.connection('notify pool'),
    );
    const prefix = config.redis.prefix;
    const client = createRedis(config.redis.url, 'client', prefix, {}, redisWatch.connection('client'));
    const workerConn = createRedis(config.redis.url, 'worker', prefix, {}, redisWatch.connection('worker'));
    const remediateConn =
      Object.keys(config.remediation.targets).length > 0
        ? createRedis(
            config.redis.url,
            'worker',
            `${prefix}-remediate`,
            {},
            redisWatch.connection('remediate worker'),
          )
        : undefined;
    const queues = createQueues(client, prefix);
    // Emails carry a signed acknowledge link when http.linkSecret and publicUrl are set.
    const ackLinks = ackLinksFor(config, pool);
    const channels =
      this.options.channels ?? createChannels(config, log, { ackLink: (id) => ackLinks.create(id) });
    for (const w of ruleWarnings(this.rules, channels, config)) log.warn(w.detail, w.msg);
    const pipeline = buildPipeline({
      config,
      rules: this.rules,
      pool,
      notifyPool,
      client,
      workerConn,
      remediateConn,
      queues,
      channels,
      metrics: this.metrics,
      health: this.health,
      log,
      agentId: this.agentId,
    });
    const http =
      this.options.http === false
        ? undefined
        : createHttpServer({
            metrics: this.metrics,
            health: this.health,
            agentId: this.agentId,
            checks: [
              { name: 'postgres', check: async () => void (await pool.query('SELECT 1')) },
              { name: 'redis', check: async () => void (await client.ping()) },
            ],
            slack: {
              signingSecret: config.slack?.signingSecret,
              redis: client,
              keyPrefix: prefix,
              queue: queues.events,
              metrics: this.metrics,
              log,
            },
            oncall: oncallHttpDeps(
              config,
              pool,
              log,
              pipeline.actions,
              pipeline.remediation.decide,
              ackLinks,
            ),
          });
    const slackSocket = config.slack?.appToken
      ? new SlackSocket({
          appToken: config.slack.appToken,
          apiUrl: config.slack.apiUrl,
          timeoutMs: config.slack.timeout,
          queue: queues.events,
          metrics: this.metrics,
          health: this.health,
          log,
        })
      : undefined;
    const thresholdListener = listenForThresholds({
      url: config.database.url,
      applicationName: `vigil ${this.agentId} thresholds`,
      schema: config.database.schema,
      store: pipeline.thresholds,
      events: pgWatch.connection('thresholds listener'),
    });
    registerQueueMetrics(this.metrics, allQueues(queues));
    registerIncidentMetrics(this.metrics, pool);
    const sources = sourceKinds.build(config.sources, {
      config,
      rules: this.rules,
      pool,
      client,
      workerConn,
      queues,
      metrics: this.metrics,
      health: this.health,
      log,
      agentId: this.agentId,
    });
    const ruleWatcher = new RuleWatcher({
      dir: config.rules.dir,
      load: () => this.loadRules(),
      current: () => this.ruleSet,
      apply: async (next, change) => {
        const before = this.ruleSet;
        this.ruleSet = next;
        await applyRules({ config, pipeline, sources, channels, pool, log }, before, next, change);
      },
      watch: this.options.watchRules ?? this.options.rules === undefined,
      health: this.health,
      metrics: this.metrics,
      log: log.child({ component: 'rules' }),
    });
    this.running = {
      pool,
      notifyPool,
      client,
      workerConn,
      remediateConn,
      queues,
      http,
      slackSocket,
      channels,
      sources,
      thresholdListener,
      ruleWatcher,
      ...pipeline,
    };
    try {
      await thresholdListener.start();
      await pipeline.status.refresh();
      await adoptLegacyNotifyJobs(client, prefix, pool, log);
      await this.checkChannels(channels, pipeline.status);
      await reportTargets({ config, log, health: this.health, metrics: this.metrics });
      for (const p of await preflight(config.remediation))
        log.warn({ target: p.target, problem: p.problem }, 'remediation target will not work on this host');
      for (const w of pipeline.workers) {
        void w.run();
        await w.waitUntilReady();
      }
      for (const source of sources) {
        const labels = { source: source.name, kind: source.kind };
        await source.start(async (events: readonly VigilEvent[]) => {
          await Promise.all(events.map((e) => pipeline.batcher.add(e)));
          this.metrics.inc('vigil_source_events_total', labels, events.length);
        });
      }
      pipeline.sweeper.start();
      await pipeline.tick.start();
      pipeline.canary.start();
      pipeline.heartbeat?.start();
      if (http) this.httpUrl = await listenHttp(http, config.http.host, config.http.port);
      slackSocket?.start();
      ruleWatcher.start();
    } catch (err) {
      // A half-started agent (e.g. its HTTP port taken) must not leave workers and connections behind.
      await this.close();
      throw err;
    }
    log.info(
      {
        rules: this.rules.rules.length,
        rulesDir: config.rules.dir,
        probes: this.rules.probes.length,
        channels: [...channels.keys()],
        http: this.httpUrl,
      },
      'agent started',
    );
  }

  /**
   * A channel that cannot work (bad token) is found now, not when the first alert is lost: it is
   * marked failed, so its alerts go by the other channels from the start. One that is merely
   * unreachable shows in /healthz until it works. Either way the agent starts.
   */
  private async checkChannels(
    channels: ReadonlyMap<ChannelName, NotifyChannel>,
    status: Pipeline['status'],
  ): Promise<void> {
    await Promise.all(
      [...channels].map(async ([name, channel]) => {
        try {
          // A channel marked failed stays so: only a real delivery (the sweeper's trial) clears it,
          // since a passing credentials check says nothing of, say, a Slack channel that is gone.
          await channel.check();
        } catch (err) {
          const cause = (err as { cause?: unknown }).cause;
          this.log.error({ channel: name, err: errorMessage(err) }, 'channel check failed at start');
          if (cause instanceof ChannelFailedError) await status.markFailed(name, errorMessage(err));
          else status.noteStartFailure(name, `check at start failed: ${errorMessage(err)}`);
        }
      }),
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
    // First: a reload must not hand new rules to sources and workers that are closing.
    await r.ruleWatcher.close();
    await Promise.allSettled(r.sources.map((s) => s.close()));
    await Promise.all([r.canary.close(), r.heartbeat?.close()]);
    await r.batcher.close();
    await r.http?.close();
    await r.slackSocket?.close();
    await r.sweeper.close();
    await r.tick.close();
    await r.thresholdListener.close();
    // Runs in flight stop waiting and are recorded as interrupted before their worker closes.
    r.remediation.stop();
    await Promise.allSettled(r.workers.map((w) => w.close()));
    await closeQueues(r.queues);
    await Promise.allSettled([...r.channels.values()].map((c) => c.close()));
    await Promise.allSettled([r.client.quit(), r.workerConn.quit(), r.remediateConn?.quit()]);
    await Promise.allSettled([r.pool.end(), r.notifyPool.end()]);
    this.running = undefined;
    this.log.info('agent stopped');
  }
}
