import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from '../log.js';

interface LegacyNotify {
  incidentId?: unknown;
  seq?: unknown;
  kind?: unknown;
  channel?: unknown;
}

/**
 * Before delivery was owed, a notification was a job in one `notify` queue, retried 8 times and then
 * failed for good. An upgrade must not lose those still waiting (or the ones that gave up during an
 * outage): at start they become owed rows — one statement, ON CONFLICT DO NOTHING, so a notification
 * the old ledger shows as delivered stays delivered — and leave the old queue. Returns how many.
 */
export async function adoptLegacyNotifyJobs(
  connection: Redis,
  prefix: string,
  pool: pg.Pool,
  log: Logger,
): Promise<number> {
  const legacy = new Queue('notify', { connection, prefix });
  try {
    const jobs = await legacy.getJobs(['waiting', 'delayed', 'prioritized', 'failed']);
    if (jobs.length === 0) return 0;
    const valid = jobs.flatMap((job) => {
      const d = job.data as LegacyNotify;
      const ok =
        typeof d.incidentId === 'string' &&
        Number.isInteger(d.seq) &&
        typeof d.kind === 'string' &&
        typeof d.channel === 'string';
      return ok ? [{ job, d: d as Required<{ [K in keyof LegacyNotify]: string }> }] : [];
    });
    const { rowCount } = await pool.query(
      `INSERT INTO vigil_deliveries (incident_id, channel, seq, kind, state)
       SELECT u.incident_id, u.channel, u.seq, u.kind, 'owed'
       FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[]) AS u(incident_id, channel, seq, kind)
       JOIN vigil_incidents i ON i.id = u.incident_id
       ON CONFLICT DO NOTHING`,
      [
        valid.map((v) => v.d.incidentId),
        valid.map((v) => v.d.channel),
        valid.map((v) => Number(v.d.seq)),
        valid.map((v) => v.d.kind),
      ],
    );
    await Promise.all(jobs.map((job) => job.remove().catch(() => undefined)));
    if (rowCount)
      log.warn(
        { adopted: rowCount, jobs: jobs.length },
        'notifications from the old notify queue are owed again',
      );
    return rowCount ?? 0;
  } finally {
    await legacy.close();
  }
}
