import { channelNames, type ChannelName } from './channels.js';
import type { Actor } from './incident.js';

/** Every queue Vigil uses; the Redis key prefix (config.redis.prefix) keeps deployments apart. */
export const queueNames = {
  events: 'events',
  remediate: 'remediate',
  probes: 'probes',
} as const;

export type QueueName = keyof typeof queueNames;

/**
 * One notify queue per channel, so each is paced on its own: a rate-limited or slow Slack pauses
 * its own queue and email goes on.
 */
export const notifyQueueName = (channel: ChannelName) => `notify-${channel}`;
export const notifyChannels = channelNames;

/** The payload each queue carries. Events are re-validated by the consumer, one by one. */
export interface QueuePayloads {
  /**
   * Batches of events (job name `batch`), and what people asked for (`action`: a Slack button):
   * answered at once, done by the events workers. One queue, not one more worker: a fifth BullMQ
   * worker per agent left Redis connections unrecovered after an outage (see the observability test).
   */
  events: { events: unknown[] } | ActionJob;
  /** A run to do (vigil_remediation_runs): what and how is read from PostgreSQL and this agent's config. */
  remediate: { runId: string };
  /** `spec` is the probe's full spec, checked by the worker that runs it. */
  probes: { probe: string; spec: unknown };
}

/** The name of an action job on the events queue (event batches are `batch`). */
export const ACTION_JOB = 'action';

export type ActionName = 'ack' | 'unack' | 'resolve' | 'silence' | 'not-actionable' | 'approve' | 'reject';

export interface ActionJob {
  action: ActionName;
  incidentId: string;
  actor: Actor;
  /** Slack: where to say what happened to the person who pressed (ephemeral), when it did not change anything. */
  responseUrl?: string;
  /** For approve/reject: the remediation run it is about. */
  runId?: string;
  receivedAt: number;
}

/**
 * A notify job names a lease: the owed rows (vigil_deliveries) it may send. The rows are the truth;
 * a job lost with Redis costs a lease period, never a notification.
 */
export interface NotifyJob {
  lease: string;
  /** Sent although the channel is marked failed: one delivery that tells whether it works again. */
  trial?: boolean;
  /** A canary's dry run: no rows, it only proves the queue moves (see watchdog/canary.ts). */
  canary?: { agent: string; sentAt: number };
}

/**
 * BullMQ job ids must not contain ':'; probe schedulers are deterministic so every agent upserts the
 * same one. Lease ids are random (see outbox) and double as their job's id.
 */
export const jobIds = {
  probeScheduler: (probe: string) => `probe-${probe}`,
};
