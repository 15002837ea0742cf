import { Worker, type Job, type Queue } from 'bullmq';
import { ChannelFailedError, RetryableError, VigilError, errorMessage } from '../errors.js';
import type { IncidentStore } from '../incidents/store.js';
import type { Incident } from '../incidents/types.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { NotifyJob } from '../queues/names.js';
import { backoffDelay } from '../queues/queues.js';
import type { NotificationContext, NotificationKind, NotifyChannel, ThreadRef } from './channel.js';
import type { ChannelStatus } from './channel-status.js';
import type { Digests } from './digest.js';
import type { Outbox, OwedRow, Sent } from './outbox.js';
import type { Pacer } from './pacer.js';

export interface DeliverDeps {
  channel: NotifyChannel;
  outbox: Outbox;
  incidents: IncidentStore;
  status: ChannelStatus;
  digests: Digests;
  pacer: Pacer;
  queue: Queue<NotifyJob>;
  metrics: Metrics;
  log: Logger;
  publicUrl: string | undefined;
  timing: { leaseFor: number; backoff: number; maxBackoff: number; concurrency: number };
  /** Records a canary's dry-run delivery on this channel. */
  canaryDone: (agent: string, sentAt: number) => Promise<void>;
}

/** Why a job stopped sending before its last row. */
type Halt =
  | { kind: 'paced'; waitMs: number }
  | { kind: 'retry'; err: VigilError }
  | { kind: 'failed'; err: ChannelFailedError };

/** A follow-up waiting for its thread's first message to go out first. */
const THREAD_WAIT_MS = 1000;

/** The notification kind that renders an incident's current state. */
function kindOfState(incident: Incident): NotificationKind {
  if (incident.state === 'resolved') return 'resolved';
  if (incident.state === 'acknowledged') return 'acknowledged';
  return incident.seq > 1 ? 'escalated' : 'opened';
}

/**
 * Sends the owed rows a notify job holds the lease of, on one channel. Rows are the truth: what is
 * not sent when the job ends (paced, channel down, agent killed) stays owed and goes out later —
 * retries are bounded by time (the sweeper), never by a job's attempt count.
 */
export function deliverProcessor(d: DeliverDeps) {
  const name = d.channel.name;
  const log = d.log.child({ channel: name });
  return async (job: Job<NotifyJob>): Promise<string> => {
    if (job.data.canary) {
      await d.canaryDone(job.data.canary.agent, job.data.canary.sentAt);
      return 'canary';
    }
    const rows = await d.outbox.claim(job.data.lease, d.timing.leaseFor);
    if (rows.length === 0) return 'nothing owed';
    if (d.status.isFailed(name) && !job.data.trial) {
      await d.outbox.retryLater(
        name,
        rows,
        rows.map(() => 0),
        null,
      );
      return 'channel failed: rows kept';
    }
    const incidents = await d.incidents.getMany([...new Set(rows.map((r) => r.incidentId))]);
    const sent: Sent[] = [];
    const later: OwedRow[] = [];
    let halt: Halt | undefined;

    const stopOn = (err: unknown): void => {
      if (halt) return;
      if (err instanceof ChannelFailedError) halt = { kind: 'failed', err };
      else if (err instanceof RetryableError && err.retryAfterMs !== undefined)
        halt = { kind: 'paced', waitMs: err.retryAfterMs };
      else
        halt = {
          kind: 'retry',
          err:
            err instanceof VigilError
              ? err
              : new RetryableError('E_NOTIFY_FAILED', errorMessage(err), { cause: err }),
        };
    };

    /** One slot of the channel's pace, or a halt when there is none now. */
    const paced = async (): Promise<boolean> => {
      const wait = await d.pacer.take();
      if (wait > 0) halt ??= { kind: 'paced', waitMs: wait };
      return !halt;
    };

    const sendOne = async (row: OwedRow, thread: ThreadRef | undefined): Promise<ThreadRef | undefined> => {
      const incident = incidents.get(row.incidentId);
      if (!incident) throw new VigilError('E_NOTIFY_INCIDENT', `incident ${row.incidentId} does not exist`);
      const links = d.publicUrl
        ? { incident: new URL(`/incidents/${incident.id}`, d.publicUrl).toString() }
        : {};
      const ctx: NotificationContext = {
        incident,
        kind: row.kind,
        seq: row.seq,
        thread: row.kind === 'opened' ? undefined : thread,
        links,
        ...(row.note ? { note: row.note } : {}),
      };
      // Tried before (a lost answer, an agent killed mid-send): the service may have it already.
      const earlier = row.attempts > 0 ? await d.channel.findDelivered?.(ctx) : undefined;
      const ref = earlier ?? (await d.channel.send(ctx));
      if (ctx.thread && d.channel.refresh) {
        const latest = await d.incidents.get(incident.id);
        if (latest && latest.seq > incident.seq)
          await d.channel.refresh({ ...ctx, incident: latest, kind: kindOfState(latest), seq: latest.seq });
      }
      d.metrics.observe(
        'vigil_notification_latency_seconds',
        { channel: name },
        (Date.now() - row.createdAt.getTime()) / 1000,
      );
      return row.kind === 'opened' || !thread ? ref : thread;
    };

    /** One incident's rows, in transition order: the first message before what threads onto it. */
    const sendIncident = async (list: OwedRow[]): Promise<void> => {
      let thread = list[0]?.thread;
      for (const row of list) {
        if (halt) return;
        const waiting = row.kind !== 'opened' && !thread && row.openedState === 'owed';
        if (waiting) {
          later.push(row);
          continue;
        }
        if (!(await paced())) return;
        try {
          const ref = await sendOne(row, thread);
          if (row.kind === 'opened' || !thread) thread = ref;
          sent.push({ incidentId: row.incidentId, seq: row.seq, ref });
        } catch (err) {
          if (err instanceof VigilError && !err.retryable && !(err instanceof ChannelFailedError)) {
            // This message was refused for what it says: retrying cannot help. Kept, never silently.
            await d.outbox.abandon(name, [row], err.message);
            d.metrics.inc('vigil_notifications_failed_total', { channel: name, reason: err.code });
            log.error(
              { incident: row.incidentId, kind: row.kind, code: err.code, err: err.message },
              'notification refused',
            );
            continue;
          }
          stopOn(err);
          return;
        }
      }
    };

    const digestRows = rows.filter((r) => r.inDigest || (r.kind !== 'opened' && r.openedInDigest));
    const alone = rows.filter((r) => !digestRows.includes(r));
    const byIncident = new Map<string, OwedRow[]>();
    for (const r of alone) byIncident.set(r.incidentId, [...(byIncident.get(r.incidentId) ?? []), r]);
    const groups = [...byIncident.values()];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(d.timing.concurrency, groups.length) }, async () => {
        while (!halt && next < groups.length) await sendIncident(groups[next++]!);
      }),
    );
    if (!halt && digestRows.length) {
      const plan = await d.digests.plan(name, digestRows);
      later.push(...plan.wait);
      for (const part of plan.parts) {
        if (!(await paced())) break;
        try {
          sent.push(...(await d.digests.send(d.channel, part, part.rows.find((r) => r.note)?.note)));
          d.metrics.inc('vigil_digests_total', { channel: name });
        } catch (err) {
          stopOn(err);
          break;
        }
      }
    }

    // Digest parts recorded themselves; the rest is recorded in one statement.
    await d.outbox.markSent(
      name,
      sent.filter((s) => s.digestId === undefined),
    );
    for (const s of sent) {
      const kind = rows.find((r) => r.incidentId === s.incidentId && r.seq === s.seq)?.kind ?? 'opened';
      d.metrics.inc('vigil_notifications_total', { channel: name, kind });
    }
    if (sent.length) {
      d.status.noteWorking(name);
      if (d.status.isFailed(name)) await d.status.clear(name);
    }
    await d.outbox.retryLater(
      name,
      later,
      later.map(() => THREAD_WAIT_MS),
      null,
    );
    const done = new Set(sent.map((s) => `${s.incidentId}/${s.seq}`));
    const left = rows.filter((r) => !done.has(`${r.incidentId}/${r.seq}`) && !later.includes(r));
    return finish(halt, left);
  };

  async function finish(halt: Halt | undefined, left: OwedRow[]): Promise<string> {
    if (!halt) return 'delivered';
    if (halt.kind === 'paced') {
      // The whole channel waits (every agent: the pause lives in Redis); this job comes back without
      // spending an attempt and sends what it still holds.
      d.metrics.inc('vigil_notifications_retried_total', { channel: name }, left.length);
      await d.queue.rateLimit(Math.max(1, Math.ceil(halt.waitMs)));
      throw Worker.RateLimitError();
    }
    if (halt.kind === 'failed') {
      await d.status.markFailed(name, halt.err.message);
      d.metrics.inc('vigil_notifications_failed_total', { channel: name, reason: halt.err.code });
      await d.outbox.retryLater(
        name,
        left,
        left.map(() => 0),
        halt.err.message,
      );
      return 'channel failed: rows kept';
    }
    d.status.noteTrouble(name, halt.err.message);
    d.metrics.inc('vigil_notifications_failed_total', { channel: name, reason: halt.err.code });
    d.metrics.inc('vigil_notifications_retried_total', { channel: name }, left.length);
    log.warn(
      { code: halt.err.code, err: halt.err.message, owed: left.length },
      'delivery failed: will retry',
    );
    await d.outbox.retryLater(
      name,
      left,
      left.map((r) => backoffDelay(r.attempts, d.timing.backoff, undefined, d.timing.maxBackoff)),
      halt.err.message,
    );
    return 'retry later';
  }
}
