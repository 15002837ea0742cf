import { Queue, type JobSchedulerJson } from 'bullmq';
import { formatDuration } from '../config/duration.js';
import { loadConfig } from '../config/load.js';
import type { VigilConfig } from '../config/schema.js';
import { checkRedis, createRedis } from '../queues/connection.js';
import { jobIds, queueNames, type QueuePayloads } from '../contracts/queues.js';
import { loadRules } from '../rules/loader.js';
import { scheduledProbes } from '../sources/probes/scheduler.js';

interface SchedulerRow {
  id: string;
  probe: string;
  every: number | null;
  next: string | null;
  /** Whether an enabled rule of this agent's rule set defines it. */
  known: boolean;
}

/** The probe schedulers in Redis under this config's prefix, against this config's rule set. */
async function withSchedulers<T>(
  opts: { config?: string },
  fn: (rows: SchedulerRow[], queue: Queue<QueuePayloads['probes']>) => Promise<T>,
): Promise<T> {
  const config: VigilConfig = loadConfig(opts.config === undefined ? {} : { file: opts.config });
  const wanted = new Set(
    scheduledProbes(loadRules(config.rules.dir, config.rules.vars, process.env, config.rules.envPrefix)).map(
      (p) => jobIds.probeScheduler(p.name),
    ),
  );
  await checkRedis(config.redis.url);
  const redis = createRedis(config.redis.url, 'client', `${config.redis.prefix}-cli`);
  const queue = new Queue<QueuePayloads['probes']>(queueNames.probes, {
    connection: redis,
    prefix: config.redis.prefix,
  });
  try {
    const schedulers = await queue.getJobSchedulers(0, -1, true);
    const rows = schedulers.map((s) => toRow(s, wanted.has(s.key))).sort((a, b) => a.id.localeCompare(b.id));
    return await fn(rows, queue);
  } finally {
    await queue.close();
    await redis.quit();
  }
}

function toRow(s: JobSchedulerJson<QueuePayloads['probes']>, known: boolean): SchedulerRow {
  const probe = s.template?.data?.probe;
  return {
    id: s.key,
    probe: typeof probe === 'string' ? probe : '?',
    every: s.every ?? null,
    next: s.next ? new Date(s.next).toISOString() : null,
    known,
  };
}

function describeRow(r: SchedulerRow): string {
  const every = r.every === null ? 'not an interval' : `every ${formatDuration(r.every)}`;
  return `${r.id}  probe ${r.probe}  ${every}  next ${r.next ?? '-'}`;
}

/** `vigil probes list`: every probe scheduler, marking those no enabled rule here defines. */
export function runProbesList(opts: { config?: string; json?: boolean }): Promise<void> {
  return withSchedulers(opts, async (rows) => {
    if (opts.json) return void console.log(JSON.stringify(rows, null, 2));
    for (const r of rows) {
      console.log(`${describeRow(r)}${r.known ? '' : '  (no enabled rule here defines it)'}`);
    }
    console.log(`${rows.length} probe scheduler(s)`);
  });
}

/**
 * `vigil probes prune`: removes the schedulers no enabled rule of this rule set defines. Agents
 * never do that by themselves: during a rolling deploy another agent's rules may still need them.
 */
export function runProbesPrune(opts: { config?: string; dryRun?: boolean }): Promise<void> {
  return withSchedulers(opts, async (rows, queue) => {
    const stale = rows.filter((r) => !r.known);
    for (const r of stale) {
      if (!opts.dryRun) {
        await queue.removeJobScheduler(r.id);
        // BullMQ removes the planned run only while it is delayed; one already due goes too.
        if (r.next) await queue.remove(`repeat:${r.id}:${Date.parse(r.next)}`);
      }
      console.log(`${opts.dryRun ? 'would remove' : 'removed'} ${describeRow(r)}`);
    }
    const kept = rows.length - stale.length;
    console.log(
      opts.dryRun
        ? `${stale.length} scheduler(s) would be removed, ${kept} kept (dry run: nothing changed)`
        : `${stale.length} scheduler(s) removed, ${kept} kept`,
    );
  });
}
