import type { Queue } from 'bullmq';
import type { ChannelName, NotificationKind } from '../notify/channel.js';
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

  /** A rule no longer loaded (edited away while its incident is open) still notifies everywhere. */
  private async notify(incidentId: string, seq: number, kind: NotificationKind, rule: Rule | undefined) {
    const targets = (rule?.notify ?? this.channels).filter((c) => this.channels.includes(c));
    await this.notifyQueue.addBulk(
      targets.map((channel) => {
        const data = { incidentId, seq, kind, channel };
        return { name: kind, data, opts: { jobId: jobIds.notify(data) } };
      }),
    );
  }

  async opened(incident: Incident, rule: Rule): Promise<void> {
    await Promise.all([
      this.notify(incident.id, 1, 'opened', rule),
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
    await this.notify(incident.id, incident.seq, 'resolved', rule);
  }

  /** `seq` is the escalation's own transition, which a retried escalation finds again. */
  async escalated(incident: Incident, seq: number, rule: Rule | undefined): Promise<void> {
    await this.notify(incident.id, seq, 'escalated', rule);
  }
}
