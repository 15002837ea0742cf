import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { formatDuration } from '../config/duration.js';
import { errorMessage } from '../errors.js';
import type { Health } from '../health.js';
import type { Escalations } from '../incidents/escalation.js';
import type { Transitions } from '../incidents/transitions.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Queues } from '../queues/queues.js';
import { channelNames, type ChannelName } from '../contracts/channels.js';
import { type NotifyChannel } from './channel.js';
import type { ChannelStatus } from './channel-status.js';
import type { HandOver, OutboxSweep } from './outbox-sweep.js';

export interface SweeperDeps {
  pool: pg.Pool;
  schema: string;
  transitions: Transitions;
  escalations: Escalations;
  /** Other passes of each sweep (releasing holds, …), run under the sweeper's lock. */
  passes: ReadonlyArray<{ name: string; tick(): Promise<void> }>;
  sweep: OutboxSweep;
  status: ChannelStatus;
  channels: ReadonlyMap<ChannelName, NotifyChannel>;
  queues: Queues;
  metrics: Metrics;
  health: Health;
  log: Logger;
  agentId: string;
  timing: {
    every: number;
    leaseFor: number;
    retryFor: number;
    fallbackAfter: number;
    recheckEvery: number;
  };
}

const label: Record<ChannelName, string> = { slack: 'Slack', email: 'email' };
const hhmm = (d: Date) => d.toISOString().slice(11, 16);

/** Rows a sweeper lease covers per job: a job's worth, not a storm's. */
const LEASE_PART = 200;

/**
 * Makes what is owed happen: escalates incidents past their ack SLA, gives up on what has been owed
 * too long, hands a failed channel's notifications to the others, and re-queues owed rows no live job
 * holds. A timer in every agent, one of them at a time (a PostgreSQL advisory lock): it must keep
 * working when Redis lost its data, which a Redis-held scheduler would not.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private owed = new Map<ChannelName, number>();

  constructor(private readonly d: SweeperDeps) {
    for (const c of channelNames)
      d.metrics.gauge('vigil_notifications_owed', { channel: c }, () => this.owed.get(c) ?? 0);
  }

  start(): void {
    const loop = () => {
      if (this.closed) return;
      this.running = this.tick().finally(() => {
        this.running = undefined;
        if (!this.closed) this.timer = setTimeout(loop, this.d.timing.every);
      });
    };
    loop();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass; errors are reported and the next pass tries again. */
  async tick(): Promise<void> {
    try {
      await this.d.status.refresh();
      await this.underLock(() => this.sweepOnce());
      await this.report();
      this.d.health.set('sweeper', undefined);
    } catch (err) {
      this.d.health.set('sweeper', `cannot sweep owed notifications: ${errorMessage(err)}`);
      this.d.log.warn({ err: errorMessage(err) }, 'sweep failed; next pass tries again');
    }
  }

  /**
   * Runs `fn` if no other agent is sweeping. The lock is a session lock held on one client; if
   * anything goes wrong with that client it is destroyed rather than returned to the pool still
   * holding the lock, which would stop every agent from sweeping.
   */
  private async underLock(fn: () => Promise<void>): Promise<void> {
    const client = await this.d.pool.connect();
    let broken: Error | undefined;
    try {
      const key = `${this.d.schema}.vigil-sweeper`;
      const { rows } = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS ok',
        [key],
      );
      if (!rows[0]?.ok) return;
      try {
        await fn();
      } finally {
        await client
          .query('SELECT pg_advisory_unlock(hashtext($1))', [key])
          .catch((err: Error) => (broken = err));
      }
    } catch (err) {
      broken ??= err as Error;
      throw err;
    } finally {
      client.release(broken);
    }
  }

  private async sweepOnce(): Promise<void> {
    const { d } = this;
    await this.recheckFailed();
    const lease = { id: randomUUID(), forMs: d.timing.leaseFor };
    const expired = await d.escalations.expireAcks(d.agentId, lease);
    for (const i of expired.incidents)
      d.log.warn({ incident: i.id, rule: i.ruleId }, 'acknowledgement expired: firing again');
    const escalated = await d.escalations.escalateDue(d.agentId, lease);
    for (const i of escalated.incidents)
      d.log.warn({ incident: i.id, rule: i.ruleId, step: i.escalationStep }, 'incident escalated');
    d.metrics.inc('vigil_escalations_total', {}, escalated.incidents.length);
    const channels = new Set([...expired.channels, ...escalated.channels]);
    await this.enqueue([...channels].map((channel) => ({ channel, lease: `${lease.id}.${channel}` })));
    // A pass that fails (a release statement, say) is logged and tried next sweep; the owed rows
    // below still go out.
    for (const pass of d.passes)
      await pass
        .tick()
        .catch((err: unknown) =>
          d.log.warn(
            { pass: pass.name, err: errorMessage(err) },
            'sweep pass failed; next sweep tries again',
          ),
        );
    for (const g of await d.sweep.abandonExpired(d.timing.retryFor)) {
      d.metrics.inc('vigil_notifications_failed_total', { channel: g.channel, reason: 'expired' }, g.rows);
      d.log.error(
        { channel: g.channel, rows: g.rows },
        'gave up on notifications owed past the retry period',
      );
    }
    const failed = [...d.status.failures().keys()];
    for (const h of await d.sweep.handOver(this.handOvers(), failed, d.timing.fallbackAfter)) {
      d.metrics.inc('vigil_notifications_fallback_total', { from: h.from, to: h.to }, h.rows);
      d.log.warn({ from: h.from, to: h.to, rows: h.rows }, 'notifications handed to another channel');
    }
    const unscheduled = await d.transitions.scheduleUnscheduled();
    if (unscheduled)
      d.log.warn({ incidents: unscheduled }, 'escalation times given to incidents opened without one');
    // A channel no agent serves gets no jobs nobody would take; its rows wait and are handed over.
    const paused = [...failed, ...(await this.unserved(failed))];
    const leases = await d.sweep.leaseDue(randomUUID(), d.timing.leaseFor, paused, LEASE_PART);
    for (const l of leases) d.metrics.inc('vigil_sweeper_requeued_total', { channel: l.channel }, l.rows);
    await this.enqueue(leases);
  }

  /**
   * Adds the jobs for these leases. Bounded in time: while Redis is away the sweep gives up (and its
   * lock) instead of hanging; the rows stay leased to jobs that do not exist and are leased again
   * once the lease lapses.
   */
  private async enqueue(
    leases: ReadonlyArray<{ channel: ChannelName; lease: string; trial?: boolean }>,
  ): Promise<void> {
    const adds = channelNames.flatMap((c) => {
      const mine = leases.filter((l) => l.channel === c);
      const data = (l: (typeof mine)[number]) =>
        l.trial ? { lease: l.lease, trial: true } : { lease: l.lease };
      return mine.length
        ? [
            this.d.queues.notify[c].addBulk(
              mine.map((l) => ({ name: 'deliver', data: data(l), opts: { jobId: l.lease } })),
            ),
          ]
        : [];
    });
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Redis did not take the notify jobs within 5 s')), 5000);
    });
    try {
      await Promise.race([Promise.all(adds), limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Channels whose notify queue no worker of any agent listens to (unknown counts as served). */
  private async unserved(failed: readonly ChannelName[]): Promise<ChannelName[]> {
    const out: ChannelName[] = [];
    for (const c of channelNames) {
      if (failed.includes(c) || this.d.channels.has(c)) continue;
      const workers = await this.d.queues.notify[c].getWorkersCount().catch(() => 1);
      if (workers === 0) out.push(c);
    }
    return out;
  }

  /** Every owing channel to every working channel of this agent, with the note the stand-in shows. */
  private handOvers(): HandOver[] {
    const failures = this.d.status.failures();
    const targets = [...this.d.channels.keys()].filter((c) => !failures.has(c));
    return channelNames.flatMap((from) =>
      targets
        .filter((to) => to !== from)
        .map((to) => {
          const f = failures.get(from);
          const why = f
            ? `${label[from]} failing since ${hhmm(f.since)} UTC (${f.reason})`
            : `${label[from]} has not delivered this for over ${formatDuration(this.d.timing.fallbackAfter)}`;
          return {
            from,
            to,
            note: `${why} — sent by ${label[to]}`,
            refusedNote: `${label[from]} refused this message — sent by ${label[to]}`,
          };
        }),
    );
  }

  /**
   * A failed channel gets one real delivery to try every `recheckEvery`; it is back when that works
   * (a credentials check cannot tell that a Slack channel exists). With nothing owed to try, the
   * channel's own check decides; a wrong verdict costs one failed send, which marks it failed again.
   */
  private async recheckFailed(): Promise<void> {
    for (const [name, f] of this.d.status.failures()) {
      const channel = this.d.channels.get(name);
      if (!channel || Date.now() - f.checkedAt.getTime() < this.d.timing.recheckEvery) continue;
      await this.d.status.markChecked(name);
      const lease = `${randomUUID()}.${name}.trial`;
      if (await this.d.sweep.leaseTrial(name, lease, this.d.timing.leaseFor)) {
        await this.enqueue([{ channel: name, lease, trial: true }]);
      } else if (
        await channel.check().then(
          () => true,
          () => false,
        )
      ) {
        await this.d.status.clear(name);
      }
    }
  }

  /** Every agent: owed counts for /metrics, and /healthz degraded when something waits too long. */
  private async report(): Promise<void> {
    const stats = await this.d.sweep.stats();
    this.owed = new Map(stats.map((s) => [s.channel, s.owed]));
    const late = stats.filter((s) => s.oldestSec * 1000 > this.d.timing.fallbackAfter);
    this.d.health.set(
      'notify.owed',
      late.length
        ? late
            .map((s) => {
              const why = this.d.status.trouble(s.channel);
              return `${s.owed} owed on ${s.channel}, oldest ${Math.round(s.oldestSec)}s${why ? ` (last error: ${why})` : ''}`;
            })
            .join('; ')
        : undefined,
    );
  }
}
