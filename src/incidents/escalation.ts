import type { Job, Queue } from 'bullmq';
import { formatDuration } from '../config/duration.js';
import type { Logger } from '../log.js';
import { jobIds, type QueuePayloads } from '../queues/names.js';
import type { Rule } from '../rules/schema.js';
import type { ChannelName } from '../notify/channel.js';
import type { IncidentStore } from './store.js';

export interface EscalationDeps {
  incidents: IncidentStore;
  rules: ReadonlyMap<string, Rule>;
  notifyQueue: Queue<QueuePayloads['notify']>;
  channels: readonly ChannelName[];
  agentId: string;
  log: Logger;
}

/**
 * Runs when an incident's ack SLA has passed (a delayed job set when it opened). An incident that
 * was acknowledged or resolved meanwhile is left alone; one still firing is escalated, once.
 */
export function escalationProcessor(deps: EscalationDeps) {
  return async (job: Job<QueuePayloads['escalate']>): Promise<string> => {
    const current = await deps.incidents.get(job.data.incidentId);
    if (!current || current.state !== 'firing') return 'no longer firing';
    const note = `not acknowledged within its ack SLA (${formatDuration(current.ackSlaMs)})`;
    const escalated = await deps.incidents.escalate(current.id, deps.agentId, note);
    if (!escalated) return 'no longer firing';
    const { incident, seq } = escalated;
    const rule = deps.rules.get(incident.ruleId);
    const targets = (rule?.notify ?? deps.channels).filter((c) => deps.channels.includes(c));
    await deps.notifyQueue.addBulk(
      targets.map((channel) => {
        const data = { incidentId: incident.id, seq, kind: 'escalated' as const, channel };
        return { name: 'escalated', data, opts: { jobId: jobIds.notify(data) } };
      }),
    );
    deps.log.warn({ incident: incident.id, rule: incident.ruleId }, 'incident escalated');
    return 'escalated';
  };
}
