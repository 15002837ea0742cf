import { DelayedError, type Job, type Queue } from 'bullmq';
import { RetryableError, VigilError } from '../errors.js';
import type { IncidentStore } from '../incidents/store.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { jobIds, type QueuePayloads } from '../queues/names.js';
import type { Incident } from '../incidents/types.js';
import type { ChannelName, NotificationKind, NotifyChannel } from './channel.js';
import type { DeliveryStore } from './deliveries.js';

export interface NotifyDeps {
  channels: ReadonlyMap<ChannelName, NotifyChannel>;
  incidents: IncidentStore;
  deliveries: DeliveryStore;
  metrics: Metrics;
  log: Logger;
  publicUrl: string | undefined;
  /** The notify queue itself, to see whether a thread's first message is still on its way. */
  queue: Queue<QueuePayloads['notify']>;
}

/** How often a follow-up looks again for its thread's first message. */
const THREAD_POLL_MS = 500;

/** Whether the `opened` notification of this incident and channel is still queued or being retried. */
async function openedPending(queue: NotifyDeps['queue'], incidentId: string, channel: ChannelName) {
  const opened = await queue.getJob(jobIds.notify({ incidentId, seq: 1, kind: 'opened', channel }));
  if (!opened) return false;
  const state = await opened.getState();
  return state !== 'completed' && state !== 'failed' && state !== 'unknown';
}

/** The notification kind that renders an incident's current state. */
function kindOfState(incident: Incident): NotificationKind {
  if (incident.state === 'resolved') return 'resolved';
  if (incident.state === 'acknowledged') return 'acknowledged';
  return incident.seq > 1 ? 'escalated' : 'opened';
}

/** Delivers one notification of one incident transition on one channel, at most once. */
export function notifyProcessor(deps: NotifyDeps) {
  return async (job: Job<QueuePayloads['notify']>, token?: string): Promise<string> => {
    const { incidentId, seq, kind, channel: channelName } = job.data;
    const channel = deps.channels.get(channelName);
    if (!channel) {
      // Another agent sharing the queue may have it (agents can differ during a rolling deploy).
      throw new RetryableError(
        'E_NOTIFY_CHANNEL',
        `channel "${channelName}" is not configured on this agent`,
      );
    }
    // Independent reads, issued together: this is on the alert's critical path.
    const [done, incident, firstThread] = await Promise.all([
      deps.deliveries.delivered(incidentId, channelName, seq),
      deps.incidents.get(incidentId),
      kind === 'opened' ? undefined : deps.deliveries.thread(incidentId, channelName),
    ]);
    let thread = firstThread;
    if (done) return 'already delivered';
    if (!incident) throw new VigilError('E_NOTIFY_INCIDENT', `incident ${incidentId} does not exist`);
    // A follow-up threads onto the first message: while that is still on its way (e.g. Slack rate
    // limits it), wait without spending attempts; if it failed for good, a new message beats none.
    if (kind !== 'opened' && !thread) {
      if (await openedPending(deps.queue, incidentId, channelName)) {
        await job.moveToDelayed(Date.now() + THREAD_POLL_MS, token);
        throw new DelayedError();
      }
      // It may have completed between the two reads: look again before starting a new thread.
      thread = await deps.deliveries.thread(incidentId, channelName);
    }
    const links = deps.publicUrl
      ? { incident: new URL(`/incidents/${incidentId}`, deps.publicUrl).toString() }
      : {};
    const ctx = { incident, kind, seq, thread, links };
    // A retry, or a re-run after the agent running it died (stalled): the earlier try may have delivered.
    const rerun = job.attemptsMade > 0 || job.stalledCounter > 0;
    const earlier = rerun ? await channel.findDelivered?.(ctx) : undefined;
    if (earlier)
      deps.log.info(
        { incident: incidentId, channel: channelName, kind, seq },
        'earlier attempt had delivered',
      );
    const ref = earlier ?? (await channel.send(ctx));
    await deps.deliveries.record(
      incidentId,
      channelName,
      seq,
      kind,
      kind === 'opened' || !thread ? ref : thread,
    );
    if (thread && channel.refresh) {
      const latest = await deps.incidents.get(incidentId);
      if (latest && latest.seq > incident.seq) {
        await channel.refresh({ ...ctx, incident: latest, kind: kindOfState(latest), seq: latest.seq });
      }
    }
    deps.metrics.inc('vigil_notifications_total', { channel: channelName, kind });
    deps.log.info({ incident: incidentId, channel: channelName, kind, seq }, 'notification delivered');
    return 'delivered';
  };
}
