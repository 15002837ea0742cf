import type { Queue } from 'bullmq';
import { sharedLoad, type Metrics } from '../metrics.js';

/** `prioritized` is waiting too; BullMQ keeps it apart from the plain wait list. */
const states = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;

/**
 * Jobs per state and the oldest waiting job's age for every queue, read at scrape time. A job's
 * age counts from when it was due (added, plus its delay), so a scheduled escalation is not old.
 */
export function registerQueueMetrics(metrics: Metrics, queues: readonly Queue[]): void {
  for (const queue of queues) {
    const snapshot = sharedLoad(async () => {
      const [counts, oldest] = await Promise.all([
        queue.getJobCounts(...states),
        queue.getJobs(['waiting'], 0, 0, true),
      ]);
      const job = oldest[0];
      const due = job ? job.timestamp + (job.opts.delay ?? 0) : undefined;
      return { counts, ageSeconds: due === undefined ? 0 : Math.max(0, (Date.now() - due) / 1000) };
    });
    for (const state of states) {
      metrics.gauge(
        'vigil_queue_jobs',
        { queue: queue.name, state },
        async () => (await snapshot()).counts[state] ?? 0,
      );
    }
    metrics.gauge(
      'vigil_queue_oldest_job_age_seconds',
      { queue: queue.name },
      async () => (await snapshot()).ageSeconds,
    );
  }
}
