import type { Queue, Worker } from 'bullmq';
import type { VigilConfig } from '../config/schema.js';
import type { ChannelName } from '../contracts/channels.js';
import type { Incident } from '../contracts/incident.js';
import type { QueuePayloads } from '../contracts/queues.js';
import type { Pool } from '../db/pool.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Redis } from '../queues/connection.js';
import { createWorker } from '../queues/queues.js';
import type { Rule } from '../rules/schema.js';
import { decide } from './decide.js';
import { RemediationRecord } from './record.js';
import { remediationActions } from './registry.js';
import { requestRuns, type RequestDeps } from './request.js';
import { processRun } from './runner.js';
import { RunStore } from './runs.js';
import { RemediationSweep } from './sweep.js';

export interface RemediationDeps {
  config: VigilConfig;
  pool: Pool;
  client: Redis;
  /** The remediate worker's own connection (a worker sharing another's left Redis unrecovered after an outage). */
  workerConn: Redis | undefined;
  queue: Queue<QueuePayloads['remediate']>;
  rules(): readonly Rule[];
  incident(id: string): Promise<Incident | undefined>;
  enqueue(leaseId: string, channels: readonly ChannelName[]): Promise<void>;
  metrics: Metrics;
  log: Logger;
  agentId: string;
}

export interface Remediation {
  /** Asks for the runs of incidents just opened. */
  opened(incidents: readonly Incident[]): Promise<void>;
  /** The sweeper's pass: interrupted runs, expired approvals, lost jobs, missed requests. */
  sweep: RemediationSweep;
  /** Approve / Reject from Slack or the CLI. */
  decide(
    incidentId: string,
    runId: string,
    approve: boolean,
    actor: string,
  ): Promise<{ changed: boolean; message: string }>;
  /** The remediate queue's worker; none when vigil.yaml configures no target (nothing could run). */
  worker: Worker | undefined;
  /** Aborts runs in flight (they end as interrupted); call before closing the worker. */
  stop(): void;
}

/** Wires the runner, its records and its sweep pass (src/remediate) into an agent. */
export function buildRemediation(d: RemediationDeps): Remediation {
  const cfg = d.config.remediation;
  const log = d.log.child({ component: 'remediation' });
  const store = new RunStore(d.pool);
  const record = new RemediationRecord(d.pool, d.config.notify.leaseFor, d.enqueue);
  const closing = new AbortController();
  const base: RequestDeps = {
    pool: d.pool,
    store,
    record,
    rules: d.rules,
    config: cfg,
    queue: d.queue,
    metrics: d.metrics,
    log,
    agentId: d.agentId,
  };
  const worker =
    d.workerConn && Object.keys(cfg.targets).length > 0
      ? createWorker<QueuePayloads['remediate'], string>(
          'remediate',
          d.workerConn,
          d.config.redis.prefix,
          (job) =>
            processRun(
              {
                ...base,
                incident: d.incident,
                registry: remediationActions,
                redis: d.client,
                prefix: d.config.redis.prefix,
                timeZone: d.config.oncall.timeZone,
                closing: closing.signal,
              },
              job.data.runId,
            ),
          { concurrency: cfg.concurrency, log, backoffBaseMs: 2000 },
        )
      : undefined;
  return {
    opened: async (incidents) => {
      const rules = new Set(d.rules().flatMap((r) => (r.remediate.length ? [r.id] : [])));
      const mine = incidents.filter((i) => rules.has(i.ruleId));
      if (mine.length) await requestRuns(base, mine);
    },
    sweep: new RemediationSweep({ ...base, leaseForMs: cfg.leaseFor }),
    decide: (incidentId, runId, approve, actor) =>
      decide({ store, record, queue: d.queue, agentId: d.agentId }, incidentId, runId, approve, actor),
    worker,
    stop: () => closing.abort(new Error('agent shutting down')),
  };
}
