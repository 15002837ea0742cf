import type { Queue } from 'bullmq';
import type { Incident } from '../contracts/incident.js';
import type { QueuePayloads } from '../contracts/queues.js';
import { zonedTime } from '../incidents/time-text.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Redis } from '../queues/connection.js';
import type { Rule } from '../rules/schema.js';
import { execute, type Executed } from './execute.js';
import { switchOffIfFailing, type FailureDeps } from './failures.js';
import { judge } from './guards.js';
import { lockTarget } from './lock.js';
import type { RemediationRecord } from './record.js';
import type { ActionRegistry } from './registry.js';
import { runName, stepLines } from './report.js';
import type { Run, RunState, RunStore } from './runs.js';
import type { RemediationConfig } from './schema.js';

export interface RunnerDeps extends FailureDeps {
  store: RunStore;
  record: RemediationRecord;
  incident(id: string): Promise<Incident | undefined>;
  /** The rules running now (hot reloads included): a run acts only as its rule still says. */
  rules(): readonly Rule[];
  config: RemediationConfig;
  registry: ActionRegistry;
  redis: Redis;
  prefix: string;
  queue: Queue<QueuePayloads['remediate']>;
  timeZone: string;
  closing: AbortSignal;
  metrics: Metrics;
  log: Logger;
  agentId: string;
}

/** Queues a run; the id keeps one job per run and reason, and the run's state makes a duplicate harmless. */
export async function queueRun(
  queue: Queue<QueuePayloads['remediate']>,
  runId: string,
  why: string,
  delayMs = 0,
): Promise<void> {
  await queue.add('run', { runId }, { jobId: `run-${runId}-${why}`, delay: Math.max(0, delayMs) });
}

/**
 * Does one `remediate` job: the run it names, as the guards allow. Everything it needs (the rule,
 * the target, its command) comes from this agent's rule files and vigil.yaml, never from the job.
 */
export async function processRun(d: RunnerDeps, runId: string): Promise<string> {
  const run = await d.store.get(runId);
  if (!run || (run.state !== 'requested' && run.state !== 'approved')) return `run ${runId}: nothing to do`;
  const end = (state: RunState, outcome: string, verified?: boolean | null) =>
    finish(d, run, state, outcome, verified);
  const rule = d.rules().find((r) => r.id === run.ruleId);
  const entry = rule?.remediate[run.entry];
  const spec = Object.hasOwn(d.config.targets, run.target) ? d.config.targets[run.target] : undefined;
  if (!rule || !entry) return end('skipped', 'its rule no longer asks for it');
  if (!spec) return end('refused', `target "${run.target}" is not configured (remediation.targets)`);
  const action = d.registry.get(spec.action);
  // The target's lock first, then the guards: two runs on one target are judged one after the
  // other, so the second sees the first (its cooldown, its place in the budget).
  const lock = await lockTarget(d.redis, d.prefix, run.target, d.config.leaseFor);
  if (!lock) {
    await queueRun(d.queue, run.id, `locked-${Date.now()}`, 2000);
    return `run ${run.id}: ${run.target} is busy with another run; trying again shortly`;
  }
  try {
    // Read again under the lock: it may have resolved while this run waited for the target.
    const incident = await d.incident(run.incidentId);
    if (!incident) return await end('skipped', 'its incident no longer exists');
    const window = Math.max(entry.budget.within, entry.cooldown);
    const recent = (await d.store.recentOf(run.target, window)).filter((r) => r.id !== run.id);
    const verdict = judge({
      run,
      incident,
      entry,
      disabled: await d.record.disabled(run.target),
      recent,
      globalDryRun: d.config.dryRun,
      now: new Date(),
    });
    switch (verdict.go) {
      case 'skip':
        return await end('skipped', verdict.why);
      case 'refuse': {
        const msg = await end('refused', verdict.why);
        if (verdict.page) await d.record.escalate(run.incidentId, verdict.why);
        return msg;
      }
      case 'wait': {
        const { until, why } = verdict;
        await d.store.move(run.id, [run.state], run.state, { outcome: why, notBefore: until });
        // Said once in the thread, so a quiet wait is not mistaken for nothing happening.
        if (!run.outcome.startsWith('cooling down'))
          await d.record.tell(
            run.incidentId,
            run.id,
            'remediation',
            `⏳ ${runName(run)} waits until ${zonedTime(until, d.timeZone)}: ${why}`,
            d.agentId,
          );
        await queueRun(d.queue, run.id, `after-${until.getTime()}`, until.getTime() - Date.now());
        return `run ${run.id}: ${why}`;
      }
      case 'dry-run':
        return await end('dry-run', `dry run, nothing done; a run would: ${action.describe(spec)}`);
      case 'ask':
        return await ask(d, run, verdict.expiresAt, action.describe(spec));
      case 'run':
        break;
    }
    // Shutting down: left waiting for the next agent (the sweeper queues it) rather than started and cut short.
    if (d.closing.aborted) return `run ${run.id}: not started, the agent is shutting down`;
    const started = await d.store.claim(run.id, d.agentId, d.config.leaseFor);
    if (started === 'busy') {
      await queueRun(d.queue, run.id, `busy-${Date.now()}`, 2000);
      return `run ${run.id}: ${run.target} has a run going; trying again shortly`;
    }
    if (!started) {
      const now = await d.incident(run.incidentId);
      return now?.state === 'resolved'
        ? await end('skipped', 'the incident resolved before it ran')
        : `run ${run.id}: taken by another agent`;
    }
    d.log.info(
      { run: run.id, target: run.target, action: run.action, incident: run.incidentId },
      'remediation started',
    );
    const done = await execute(
      {
        store: d.store,
        agentId: d.agentId,
        leaseForMs: d.config.leaseFor,
        runTimeoutMs: d.config.runTimeout,
        closing: d.closing,
        log: d.log,
      },
      started,
      rule,
      entry,
      action,
      spec,
      lock,
    );
    const msg = await end(done.state, outcomeText(done), done.verification?.verified ?? null);
    if (done.state === 'failed' || done.state === 'refused')
      await d.record.escalate(run.incidentId, `${runName(run)} ${done.state}: ${done.summary}`);
    if (done.state === 'failed')
      await switchOffIfFailing(d, run.target, entry.recurrence.disableAfter, run.incidentId, run.id);
    return msg;
  } finally {
    // Bounded: during a Redis outage these would wait for the reconnect and hold the shutdown up;
    // the lease expires by itself, and the sweeper queues waiting runs.
    await bounded(lock.release());
    await bounded(nextOf(d, run));
  }
}

/** The target is free again: the oldest run waiting on it goes now rather than at its next retry. */
async function nextOf(d: RunnerDeps, run: Run): Promise<void> {
  const next = await d.store.nextWaiting(run.target, run.id);
  if (next) await queueRun(d.queue, next, `next-${run.id}`);
}

/** Asks in the incident's thread (Approve / Reject); the run waits, and expires unanswered. */
async function ask(d: RunnerDeps, run: Run, expiresAt: Date, plan: string): Promise<string> {
  const moved = await d.store.move(run.id, ['requested'], 'awaiting-approval', {
    approvalExpiresAt: expiresAt,
    outcome: 'waiting for approval',
  });
  if (moved) {
    const until = zonedTime(expiresAt, d.timeZone);
    const note = `${runName(run)} would: ${plan}.\nApprove or reject before ${until}; unanswered, it does not run.`;
    await d.record.tell(run.incidentId, run.id, 'approval', note, d.agentId);
  }
  return `run ${run.id}: waiting for approval`;
}

const outcomeText = (e: Executed) => (e.verification ? `${e.summary}; ${e.verification.detail}` : e.summary);

const heads: Partial<Record<RunState, string>> = {
  succeeded: '✅',
  failed: '❌',
  refused: '⛔',
  interrupted: '⚠️',
  'dry-run': '🧪',
  skipped: '⏭️',
};

/** Ends a run (unless someone else moved it), tells its thread, counts it. */
async function finish(
  d: RunnerDeps,
  run: Run,
  state: RunState,
  outcome: string,
  verified?: boolean | null,
): Promise<string> {
  const moved = await d.store.move(run.id, [run.state, 'running'], state, {
    outcome,
    finished: true,
    ...(verified === undefined ? {} : { verified }),
  });
  if (!moved) return `run ${run.id}: already moved on`;
  d.metrics.inc('vigil_remediation_runs_total', { action: run.action, state });
  const log = d.log.child({ run: run.id, target: run.target, action: run.action, incident: run.incidentId });
  (state === 'failed' || state === 'refused' ? log.warn.bind(log) : log.info.bind(log))(
    { state, outcome },
    'remediation ended',
  );
  // A run skipped because its incident ended has nothing to tell anyone.
  if (state === 'skipped' && outcome.startsWith('the incident resolved')) return `run ${run.id}: ${outcome}`;
  const steps = stepLines(await d.store.steps(run.id));
  const note = [`${heads[state] ?? ''} ${runName(run)} ${state}: ${outcome}`.trim(), ...steps].join('\n');
  await d.record.tell(run.incidentId, run.id, 'remediation', note, d.agentId);
  return `run ${run.id}: ${state}`;
}

/** Waits for a best-effort step at most 2 s, never throwing. */
function bounded(work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)));
  return Promise.race([work.then(() => undefined), limit])
    .catch(() => undefined)
    .finally(() => clearTimeout(timer));
}
