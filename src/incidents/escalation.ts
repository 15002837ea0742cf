import type { Job } from 'bullmq';
import { formatDuration } from '../config/duration.js';
import type { Logger } from '../log.js';
import type { QueuePayloads } from '../queues/names.js';
import type { Rule } from '../rules/schema.js';
import type { Dispatcher } from './dispatch.js';
import type { IncidentStore } from './store.js';

export interface EscalationDeps {
  incidents: IncidentStore;
  rules: ReadonlyMap<string, Rule>;
  dispatch: Dispatcher;
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
    await deps.dispatch.escalated(incident, seq, deps.rules.get(incident.ruleId));
    deps.log.warn({ incident: incident.id, rule: incident.ruleId }, 'incident escalated');
    return 'escalated';
  };
}
