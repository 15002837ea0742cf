import { Worker, type Job, type Queue } from 'bullmq';
import { ChannelFailedError, RetryableError, VigilError, errorMessage } from '../errors.js';
import type { IncidentStore } from '../incidents/store.js';
import type { Incident } from '../contracts/incident.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { NotifyJob } from '../contracts/queues.js';
import { backoffDelay } from '../queues/queues.js';
import type { NotificationKind } from '../contracts/channels.js';
import type { NotificationContext, NotifyChannel, ThreadRef } from './channel.js';
import type { ChannelStatus } from './channel-status.js';
import type { Digests } from './digest.js';
import { JobLease } from './job-lease.js';
import type { Outbox, OwedRow } from './outbox.js';
import type { Pacer } from './pacer.js';
import type { TargetBook } from './targets.js';

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
  targets: TargetBook;
  /** The rule's runbook link and description, shown on every message about its incidents. */
  ruleInfo: (ruleId: string) => { runbook?: string | undefined; description?: string | undefined };
  timing: { leaseFor: number; backoff: number; maxBackoff: number; concurrency: number };
  /** Records a canary's dry-run delivery on this channel. */
  canaryDone: (agent: string, sentAt: number) => Promise<void>;
}

/** Why a job stopped sending before its last row. */
type Halt =
  /** `byService`: the service said 429; otherwise our own pace said wait (not a retry of anything). */
  | { kind: 'paced'; waitMs: number; byService: boolean }
  | { kind: 'retry'; err: VigilError }
  | { kind: 'failed'; err: ChannelFailedError };

/** A follow-up waiting for its thread's first message to go out first. */
const THREAD_WAIT_MS = 1000;

/**
 * The audit note worth showing with a notification: not an opening's summary again (the message
 * shows it), only what the note adds to it; nothing when the row's note says it already.
 */
function whyOf(row: OwedRow, incident: Incident): string {
  const why = row.why.trim();
  // A release's reason may travel as the row's own note already: shown once.
  if (why === row.note.trim()) return '';
  if (row.kind !== 'opened') return why;
  const rest = why.startsWith(incident.summary) ? why.slice(incident.summary.length) : why;
  return rest.replace(/^[;\s]+/, '');
}

/** The notification kind that renders an incident's current state. */
function kindOfState(incident: Incident): NotificationKind {
  if (incident.state === 'resolved') return 'resolved';
  if (incident.state === 'acknowledged') return 'acknowledged';
  return incident.seq > 1 ? 'escalated' : 'opened';
}

function haltFor(err: unknown): Halt {
  if (err instanceof ChannelFailedError) return { kind: 'failed', err };
  if (err instanceof RetryableError && err.retryAfterMs !== undefined)
    return { kind: 'paced', waitMs: err.retryAfterMs, byService: true };
  if (err instanceof VigilError) return { kind: 'retry', err };
  return { kind: 'retry', err: new RetryableError('E_NOTIFY_FAILED', errorMessage(err), { cause: err }) };
}

/** Told in the storm's digest: openings beyond the threshold, and what follows them (resolved, escalated). */
const inDigest = (r: OwedRow) => (r.kind === 'opened' ? r.inDigest : r.openedInDigest);

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
    const leaseId = job.data.lease;
    const rows = await d.outbox.claim(leaseId, d.timing.leaseFor);
    if (rows.length === 0) return 'nothing owed';
    if (d.status.isFailed(name) && !job.data.trial) {
      await d.outbox.retryLater(
        name,
        leaseId,
        rows,
        rows.map(() => 0),
        null,
      );
      return 'channel failed: rows kept';
    }
    // A retried or re-run job (its agent died, a record failed): some rows may have gone out already.
    const rerun = job.attemptsMade > 0 || job.stalledCounter > 0;
    const incidents = await d.incidents.getMany([...new Set(rows.map((r) => r.incidentId))]);
    const lease = new JobLease(d.outbox, name, leaseId, d.timing.leaseFor);
    const done = new Set<OwedRow>();
    const later: OwedRow[] = [];
    let halt: Halt | undefined;

    /** One slot of the channel's pace, or a halt when there is none now. */
    const paced = async (): Promise<boolean> => {
      const wait = await d.pacer.take();
      if (wait > 0) halt ??= { kind: 'paced', waitMs: wait, byService: false };
      return !halt;
    };

    const sendOne = async (row: OwedRow, thread: ThreadRef | undefined): Promise<ThreadRef | undefined> => {
      const incident = incidents.get(row.incidentId);
      if (!incident) throw new VigilError('E_NOTIFY_INCIDENT', `incident ${row.incidentId} does not exist`);
      const { runbook, description } = d.ruleInfo(incident.ruleId);
      // No link to an incident page: Vigil has none to show yet (the JSON API needs a token).
      const links = runbook ? { runbook } : {};
      const dest = d.targets.resolve(name, row.target);
      const why = whyOf(row, incident);
      const ctx: NotificationContext = {
        incident,
        kind: row.kind,
        seq: row.seq,
        thread: row.kind === 'opened' ? undefined : thread,
        links,
        ...(row.note ? { note: row.note } : {}),
        ...(description ? { description } : {}),
        ...(why ? { why } : {}),
        ...(row.runId ? { runId: row.runId } : {}),
        ...(dest.to !== undefined ? { destination: [dest.to].flat().join(',') } : {}),
        ...(dest.mention !== undefined && row.page ? { mention: dest.mention } : {}),
      };
      // Tried before (a lost answer, an agent killed mid-send): the service may have it already.
      const earlier = row.attempts > 0 || rerun ? await d.channel.findDelivered?.(ctx) : undefined;
      const ref = earlier ?? (await d.channel.send(ctx));
      const kept = row.kind === 'opened' || !thread ? ref : thread;
      lease.record({ incidentId: row.incidentId, target: row.target, seq: row.seq, ref: kept });
      done.add(row);
      d.metrics.inc('vigil_notifications_total', { channel: name, kind: row.kind });
      d.metrics.observe(
        'vigil_notification_latency_seconds',
        { channel: name },
        (Date.now() - row.createdAt.getTime()) / 1000,
      );
      if (ctx.thread && d.channel.refresh) {
        // Best effort, after the row is recorded: the next notification renders the state anyway.
        const latest = await d.incidents.get(incident.id).catch(() => undefined);
        if (latest && latest.seq > incident.seq)
          await d.channel
            .refresh({ ...ctx, incident: latest, kind: kindOfState(latest), seq: latest.seq })
            .catch((err: unknown) =>
              log.debug({ incident: incident.id, err: errorMessage(err) }, 'refresh failed'),
            );
      }
      return kept;
    };

    /** Refused for what it says: retrying cannot help. Handed to the other channels by the sweeper. */
    const refused = async (list: readonly OwedRow[], err: VigilError): Promise<void> => {
      await d.outbox.abandon(name, leaseId, list, err.message);
      d.metrics.inc('vigil_notifications_failed_total', { channel: name, reason: err.code }, list.length);
      log.error({ rows: list.length, code: err.code, err: err.message }, 'notification refused');
      list.forEach((r) => done.add(r));
    };
    const isRefusal = (err: unknown): err is VigilError =>
      err instanceof VigilError && !err.retryable && !(err instanceof ChannelFailedError);

    /**
     * One incident's rows, in transition order: the first message before what threads onto it. Every
     * error ends in `halt` — none escapes — so no sender is still sending when the job ends.
     */
    const sendIncident = async (list: OwedRow[]): Promise<void> => {
      let thread = list[0]?.thread;
      // An incident that resolved before its first message went out: that message already shows it
      // resolved, and on a channel that edits in place an identical update would only spend the pace.
      let shownResolved = false;
      for (const row of list) {
        if (halt) return;
        if (row.kind !== 'opened' && !thread && row.openedState === 'owed') {
          later.push(row);
          continue;
        }
        if (row.kind === 'resolved' && shownResolved && d.channel.refresh) {
          lease.record({ incidentId: row.incidentId, target: row.target, seq: row.seq, ref: thread });
          done.add(row);
          continue;
        }
        try {
          if (!(await paced())) return;
          thread = await sendOne(row, thread);
          shownResolved ||= row.kind === 'opened' && incidents.get(row.incidentId)?.state === 'resolved';
        } catch (err) {
          if (!isRefusal(err)) {
            halt ??= haltFor(err);
            return;
          }
          try {
            await refused([row], err);
          } catch (recordErr) {
            halt ??= haltFor(recordErr);
            return;
          }
        }
      }
    };

    try {
      // The digest first: one message tells most of a storm, the ones sent alone follow at the pace.
      const digestRows = rows.filter(inDigest);
      if (digestRows.length) {
        const plan = await d.digests.plan(name, digestRows);
        later.push(...plan.wait);
        for (const part of plan.parts) {
          try {
            const told = await d.digests.send(d.channel, part, part.rows.find((r) => r.note)?.note, paced);
            if (halt) break;
            part.rows.forEach((r) => done.add(r));
            d.metrics.inc('vigil_digests_total', { channel: name });
            for (const [kind, n] of Object.entries(told))
              d.metrics.inc('vigil_notifications_total', { channel: name, kind }, n);
          } catch (err) {
            if (isRefusal(err)) await refused(part.rows, err);
            else {
              halt ??= haltFor(err);
              break;
            }
          }
        }
      }
      // One thread per incident and target: a target's rows go in order, other targets' alongside.
      const byIncident = new Map<string, OwedRow[]>();
      for (const r of rows.filter((x) => !inDigest(x))) {
        const key = `${r.incidentId}/${r.target}`;
        byIncident.set(key, [...(byIncident.get(key) ?? []), r]);
      }
      const groups = [...byIncident.values()];
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(d.timing.concurrency, groups.length) }, async () => {
          while (!halt && next < groups.length) await sendIncident(groups[next++]!);
        }),
      );
    } finally {
      await lease.close();
    }
    if (done.size) {
      if (d.status.noteWorking(name)) await d.outbox.dueNow(name);
      if (d.status.isFailed(name)) await d.status.clear(name);
    }
    await d.outbox.retryLater(
      name,
      leaseId,
      later,
      later.map(() => THREAD_WAIT_MS),
      null,
    );
    const left = rows.filter((r) => !done.has(r) && !later.includes(r));
    return finish(halt, leaseId, left);
  };

  async function finish(halt: Halt | undefined, leaseId: string, left: OwedRow[]): Promise<string> {
    if (!halt) return 'delivered';
    if (halt.kind === 'paced') {
      // The whole channel waits (every agent: the pause lives in Redis); this job comes back without
      // spending an attempt and sends what it still holds.
      if (halt.byService) d.metrics.inc('vigil_notifications_retried_total', { channel: name }, left.length);
      await d.queue.rateLimit(Math.max(1, Math.ceil(halt.waitMs)));
      throw Worker.RateLimitError();
    }
    d.metrics.inc('vigil_notifications_failed_total', { channel: name, reason: halt.err.code });
    if (halt.kind === 'failed') {
      await d.status.markFailed(name, halt.err.message);
      await d.outbox.retryLater(
        name,
        leaseId,
        left,
        left.map(() => 0),
        halt.err.message,
      );
      return 'channel failed: rows kept';
    }
    d.status.noteTrouble(name, halt.err.message);
    d.metrics.inc('vigil_notifications_retried_total', { channel: name }, left.length);
    log.warn(
      { code: halt.err.code, err: halt.err.message, owed: left.length },
      'delivery failed: will retry',
    );
    const delays = left.map((r) =>
      backoffDelay(r.attempts + 1, d.timing.backoff, undefined, d.timing.maxBackoff),
    );
    await d.outbox.retryLater(name, leaseId, left, delays, halt.err.message);
    return 'retry later';
  }
}
