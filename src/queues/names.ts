import type { ChannelName, NotificationKind } from '../notify/channel.js';

/** Every queue Vigil uses; the Redis key prefix (config.redis.prefix) keeps deployments apart. */
export const queueNames = {
  events: 'events',
  notify: 'notify',
  escalate: 'escalate',
  remediate: 'remediate',
  probes: 'probes',
} as const;

export type QueueName = keyof typeof queueNames;

/** The payload each queue carries. Events are re-validated by the consumer, one by one. */
export interface QueuePayloads {
  events: { events: unknown[] };
  notify: { incidentId: string; seq: number; kind: NotificationKind; channel: ChannelName };
  escalate: { incidentId: string; seq: number };
  remediate: { incidentId: string; ruleId: string; action: string };
  /** `spec` is the probe's full spec, checked by the worker that runs it. */
  probes: { probe: string; spec: unknown };
}

/**
 * BullMQ job ids must not contain ':'; these are deterministic so a job added twice (two agents,
 * a retried batch) is one job.
 */
export const jobIds = {
  notify: (p: QueuePayloads['notify']) => `n-${p.incidentId}-${p.seq}-${p.channel}`,
  escalate: (p: QueuePayloads['escalate']) => `e-${p.incidentId}-${p.seq}`,
  probeScheduler: (probe: string) => `probe-${probe}`,
};
