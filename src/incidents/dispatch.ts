import type { Queue } from 'bullmq';
import type { ChannelName } from '../notify/channel.js';
import { jobIds, type QueuePayloads } from '../queues/names.js';
import type { Rule } from '../rules/schema.js';
import type { Incident } from './types.js';

/**
 * Turns incident transitions into queue jobs. Job ids are deterministic (incident, seq, channel),
 * so dispatching the same transition twice — a retried batch, two agents — is one job; the notify
 * worker's deliveries table guards what outlives the job's retention.
 */
export class Dispatcher {
  constructor(
    private readonly notifyQueue: Queue<QueuePayloads['notify']>,
    private readonly escalateQueue: Queue<QueuePayloads['escalate']>,
    private readonly channels: readonly ChannelName[],
  ) {}

  private targets(rule: Rule): ChannelName[] {
    return rule.notify.filter((c) => this.channels.includes(c));
  }

  async opened(incident: Incident, rule: Rule): Promise<void> {
    const jobs = this.targets(rule).map((channel) => {
      const data = { incidentId: incident.id, seq: 1, kind: 'opened' as const, channel };
      return { name: 'opened', data, opts: { jobId: jobIds.notify(data) } };
    });
    await Promise.all([
      this.notifyQueue.addBulk(jobs),
      this.escalateQueue.add(
        'sla',
        { incidentId: incident.id, seq: 1 },
        {
          jobId: jobIds.escalate({ incidentId: incident.id, seq: 1 }),
          delay: Math.max(0, incident.startedAt.getTime() + incident.ackSlaMs - Date.now()),
        },
      ),
    ]);
  }

  async resolved(incident: Incident, rule: Rule): Promise<void> {
    const jobs = this.targets(rule).map((channel) => {
      const data = { incidentId: incident.id, seq: incident.seq, kind: 'resolved' as const, channel };
      return { name: 'resolved', data, opts: { jobId: jobIds.notify(data) } };
    });
    await this.notifyQueue.addBulk(jobs);
  }
}
