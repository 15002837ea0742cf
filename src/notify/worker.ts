import type { Job } from 'bullmq';
import { RetryableError, VigilError } from '../errors.js';
import type { IncidentStore } from '../incidents/store.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { QueuePayloads } from '../queues/names.js';
import type { ChannelName, NotifyChannel } from './channel.js';
import type { DeliveryStore } from './deliveries.js';

export interface NotifyDeps {
  channels: ReadonlyMap<ChannelName, NotifyChannel>;
  incidents: IncidentStore;
  deliveries: DeliveryStore;
  metrics: Metrics;
  log: Logger;
  publicUrl: string | undefined;
}

/** Attempts a follow-up waits for its thread's first message before posting without it. */
const THREAD_WAIT_ATTEMPTS = 5;

/** Delivers one notification of one incident transition on one channel, at most once. */
export function notifyProcessor(deps: NotifyDeps) {
  return async (job: Job<QueuePayloads['notify']>): Promise<string> => {
    const { incidentId, seq, kind, channel: channelName } = job.data;
    const channel = deps.channels.get(channelName);
    if (!channel)
      throw new VigilError('E_NOTIFY_CHANNEL', `channel "${channelName}" is not configured on this agent`);
    // Independent reads, issued together: this is on the alert's critical path.
    const [done, incident, thread] = await Promise.all([
      deps.deliveries.delivered(incidentId, channelName, seq),
      deps.incidents.get(incidentId),
      kind === 'opened' ? undefined : deps.deliveries.thread(incidentId, channelName),
    ]);
    if (done) return 'already delivered';
    if (!incident) throw new VigilError('E_NOTIFY_INCIDENT', `incident ${incidentId} does not exist`);
    if (kind !== 'opened' && !thread && job.attemptsMade < THREAD_WAIT_ATTEMPTS) {
      throw new RetryableError(
        'E_THREAD_PENDING',
        `the first ${channelName} message of incident ${incidentId} is not out yet`,
        {
          retryAfterMs: 250 * 2 ** job.attemptsMade,
        },
      );
    }
    const links = deps.publicUrl
      ? { incident: new URL(`/incidents/${incidentId}`, deps.publicUrl).toString() }
      : {};
    const ref = await channel.send({ incident, kind, seq, thread, links });
    await deps.deliveries.record(
      incidentId,
      channelName,
      seq,
      kind,
      kind === 'opened' || !thread ? ref : thread,
    );
    deps.metrics.inc('vigil_notifications_total', { channel: channelName, kind });
    deps.log.info({ incident: incidentId, channel: channelName, kind, seq }, 'notification delivered');
    return 'delivered';
  };
}
