import { hostname } from 'node:os';
import type { Job, Worker } from 'bullmq';
import type { VigilConfig } from './config/schema.js';
import type { Pool } from './db/pool.js';
import type { Health } from './health.js';
import { IncidentStore } from './incidents/store.js';
import { IncidentActions } from './incidents/actions.js';
import { actionProcessor } from './incidents/action-worker.js';
import { Silences } from './incidents/silences.js';
import { Escalations } from './incidents/escalation.js';
import type { HoldJudge } from './incidents/holds.js';
import { Router } from './incidents/routing.js';
import { Transitions } from './incidents/transitions.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { ChannelName } from './contracts/channels.js';
import type { NotifyChannel } from './notify/channel.js';
import { ChannelStatus } from './notify/channel-status.js';
import { deliverProcessor } from './notify/deliver.js';
import { Digests } from './notify/digest.js';
import { Outbox } from './notify/outbox.js';
import { OutboxSweep } from './notify/outbox-sweep.js';
import { createPacer } from './notify/pacer.js';
import { Sweeper } from './notify/sweeper.js';
import { configuredChannels, TargetBook } from './notify/targets.js';
import { holdReleases, ruleHoldJudges } from './incidents/hold-releases.js';
import { eventsBatcher, type Batcher } from './queues/batcher.js';
import type { Redis } from './queues/connection.js';
import { ACTION_JOB, notifyQueueName, type ActionJob, type NotifyJob } from './contracts/queues.js';
import { createWorker, type Queues } from './queues/queues.js';
import { RuleEngine } from './rules/engine.js';
import type { RuleSet } from './rules/loader.js';
import { SeriesStore } from './rules/series.js';
import { seriesRestarter } from './rules/series-restart.js';
import { RulesTick } from './rules/tick.js';
import { WindowStore } from './rules/window-store.js';
import { ThresholdStore } from './rules/thresholds.js';
import { Canary, canaryKey } from './watchdog/canary.js';
import { Heartbeat } from './watchdog/heartbeat.js';
import { SilenceJudge } from './incidents/silence-judge.js';
import { SilenceRelease } from './incidents/silence-release.js';
import { buildRemediation, type Remediation } from './remediate/remediation.js';

export interface PipelineDeps {
  config: VigilConfig;
  rules: RuleSet;
  /** Evaluation and the sweeper. */
  pool: Pool;
  /** Delivery has a pool of its own, so a storm of incident writes cannot starve the notify path. */
  notifyPool: Pool;
  client: Redis;
  workerConn: Redis;
  /** The remediate worker's own connection; without it this agent runs no remediation. */
  remediateConn?: Redis;
  queues: Queues;
  channels: ReadonlyMap<ChannelName, NotifyChannel>;
  metrics: Metrics;
  health: Health;
  log: Logger;
  agentId: string;
}

export interface Pipeline {
  /** Where sources put events; flushes batches onto the events queue. */
  batcher: Batcher;
  /** events → rules, and one delivery worker per channel. */
  workers: Worker[];
  sweeper: Sweeper;
  /** Time passing: the cluster's rules tick. */
  tick: RulesTick;
  /** Self-trust: a canary through the whole pipeline, and a heartbeat out while it comes back. */
  canary: Canary;
  heartbeat: Heartbeat | undefined;
  status: ChannelStatus;
  incidents: IncidentStore;
  /** What people do to incidents (acknowledge, resolve, …), for the API, Slack and email links. */
  actions: IncidentActions;
  targets: TargetBook;
  thresholds: ThresholdStore;
  /** Guarded auto-remediation: its worker is in `workers`; stop() before closing them. */
  remediation: Remediation;
  /**
   * Swaps the rule set wherever evaluation reads it — the thresholds' rules, the
   * engine's index — in one synchronous step (a hot reload, see rules/reload.ts).
   */
  replaceRules(rules: RuleSet): void;
  /** Starts watching the series of absence rules with no groupBy, new ones included. */
  watchUnseen(): Promise<void>;
}

/** Wires the stages of DESIGN.md's data flow to their queues; nothing runs until the workers do. */
export function buildPipeline(d: PipelineDeps): Pipeline {
  const { config, queues, log } = d;
  const prefix = config.redis.prefix;
  const incidents = new IncidentStore(d.notifyPool);
  const transitions = new Transitions(d.pool);
  const targets = new TargetBook(configuredChannels(config), config.targets);
  const channelOf = (t: string) => targets.channelOf(t);
  const maintenance = { windows: config.maintenance, timeZone: config.oncall.timeZone };
  const holds: HoldJudge[] = [new SilenceJudge(d.pool, maintenance), ...ruleHoldJudges(d.pool, config)];
  let ruleSet = d.rules;
  const ruleInfo = new Map<string, { runbook?: string | undefined; description: string }>();
  const learnRules = (rules: RuleSet) => {
    ruleInfo.clear();
    for (const r of rules.rules) ruleInfo.set(r.id, { runbook: r.runbook, description: r.description });
  };
  learnRules(d.rules);
  const enqueue = async (lease: string, channels: readonly ChannelName[]) => {
    await Promise.all(
      channels.map((c) =>
        queues.notify[c].add('deliver', { lease: `${lease}.${c}` }, { jobId: `${lease}.${c}` }),
      ),
    );
  };
  const actions = new IncidentActions({
    pool: d.pool,
    leaseForMs: config.notify.leaseFor,
    ackExpiryMs: config.oncall.ackExpiry,
    enqueue,
    restartSeries: seriesRestarter(d.client, prefix),
  });
  const remediation = buildRemediation({
    config,
    pool: d.pool,
    client: d.client,
    workerConn: d.remediateConn,
    queue: queues.remediate,
    rules: () => ruleSet.rules,
    incident: (id) => incidents.get(id),
    enqueue,
    metrics: d.metrics,
    log,
    agentId: d.agentId,
  });
  const thresholds = new ThresholdStore(d.pool, d.rules.rules, {
    log: log.child({ component: 'thresholds' }),
    metrics: d.metrics,
  });
  const status = new ChannelStatus(
    d.notifyPool,
    [...d.channels.keys()],
    d.health,
    d.metrics,
    log.child({ component: 'channels' }),
  );
  const n = config.notify;
  const engine = new RuleEngine({
    rules: d.rules.rules,
    series: new SeriesStore(d.client),
    windows: new WindowStore(d.client, prefix),
    thresholds,
    transitions,
    router: new Router(config, targets),
    channelOf,
    holds,
    channels: [...d.channels.keys()],
    notify: queues.notify,
    leaseForMs: n.leaseFor,
    digest: { threshold: n.digest.threshold, windowMs: n.digest.window },
    metrics: d.metrics,
    log: log.child({ component: 'rules' }),
    agentId: d.agentId,
    prefix,
    maxFutureSkewMs: config.events.maxFutureSkew,
    opened: (opened) => remediation.opened(opened),
  });
  const batcher = eventsBatcher(queues.events, config.events, (err, events) =>
    log.error({ err: (err as Error).message, events: events.length }, 'batch not queued'),
  );
  const runAction = actionProcessor({
    actions,
    silences: new Silences(d.pool),
    incident: (id) => incidents.get(id),
    silenceForMs: config.oncall.silenceFor,
    decide: (incidentId, runId, approve, actor) => remediation.decide(incidentId, runId, approve, actor),
    slackApiUrl: config.slack?.apiUrl,
    metrics: d.metrics,
    log,
  });
  const events = createWorker(
    'events',
    d.workerConn,
    prefix,
    async (job): Promise<unknown> =>
      job.name === ACTION_JOB
        ? runAction(job as Job<ActionJob>)
        : engine.processBatch((job.data as { events: unknown }).events, `events job ${job.id}`),
    { concurrency: config.events.concurrency, log, backoffBaseMs: 200 },
  );
  const tick = new RulesTick({
    redis: d.client,
    prefix,
    engine,
    agentId: d.agentId,
    everyMs: config.rules.tickEvery,
    rewatchEvery: 5_000,
    log: log.child({ component: 'tick' }),
  });
  const outbox = new Outbox(d.notifyPool);
  const digests = new Digests(d.notifyPool, n.digest.window);
  const notifyLog = log.child({ component: 'notify' });
  const deliverers = [...d.channels].map(([name, channel]) =>
    createWorker<NotifyJob, string>(
      notifyQueueName(name),
      d.workerConn,
      prefix,
      deliverProcessor({
        channel,
        outbox,
        incidents,
        status,
        digests,
        pacer: createPacer(d.client, prefix, name, config[name]?.rateLimit ?? { perSecond: 0, burst: 1 }),
        queue: queues.notify[name],
        metrics: d.metrics,
        log: notifyLog,
        targets,
        ruleInfo: (id) => ruleInfo.get(id) ?? {},
        timing: {
          leaseFor: n.leaseFor,
          backoff: n.backoff,
          maxBackoff: n.maxBackoff,
          concurrency: n.concurrency,
        },
        canaryDone: async (agent, sentAt) =>
          void (await d.client.set(canaryKey(prefix, agent, name), String(sentAt), 'PX', 86_400_000)),
      }),
      // The limiter only lets a 429 pause the queue (BullMQ honours a manual rate limit only when one
      // is set); pacing itself is the pacer's, per message rather than per job.
      { concurrency: 2, log, limiter: { max: 100_000, duration: 1000 } },
    ),
  );
  const sweeper = new Sweeper({
    pool: d.pool,
    schema: config.database.schema,
    transitions,
    escalations: new Escalations(d.pool, () => config.escalation.policies, channelOf, targets.channels),
    passes: [
      new SilenceRelease({
        pool: d.pool,
        maintenance,
        targets,
        agentId: d.agentId,
        log: log.child({ component: 'silences' }),
      }),
      ...holdReleases({ ...d, targets, rules: () => ruleSet.rules, log: log.child({ component: 'holds' }) }),
      remediation.sweep,
    ],
    sweep: new OutboxSweep(d.pool),
    status,
    channels: d.channels,
    queues,
    metrics: d.metrics,
    health: d.health,
    log: log.child({ component: 'sweeper' }),
    agentId: d.agentId,
    timing: {
      every: n.sweepEvery,
      leaseFor: n.leaseFor,
      retryFor: n.retryFor,
      fallbackAfter: n.fallbackAfter,
      recheckEvery: n.recheckEvery,
    },
  });
  const canary = new Canary({
    redis: d.client,
    prefix,
    agentId: d.agentId,
    host: hostname(),
    channels: [...d.channels.keys()],
    send: (e) => batcher.add(e),
    health: d.health,
    metrics: d.metrics,
    everyMs: config.canary.every,
    maxAgeMs: config.canary.maxAge,
  });
  const heartbeat = config.heartbeat
    ? new Heartbeat({
        url: config.heartbeat.url,
        everyMs: config.heartbeat.every,
        timeoutMs: config.heartbeat.timeout,
        health: d.health,
        metrics: d.metrics,
        log: log.child({ component: 'heartbeat' }),
      })
    : undefined;
  return {
    batcher,
    workers: [events, ...deliverers, ...(remediation.worker ? [remediation.worker] : [])],
    tick,
    sweeper,
    canary,
    heartbeat,
    status,
    incidents,
    actions,
    targets,
    thresholds,
    remediation,
    replaceRules(rules) {
      ruleSet = rules;
      thresholds.replaceRules(rules.rules);
      engine.replaceRules(rules.rules);
      learnRules(rules);
    },
    watchUnseen: () => engine.watchUnseen(),
  };
}
