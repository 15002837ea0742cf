import type { Queue } from 'bullmq';
import type { QueuePayloads } from '../contracts/queues.js';
import type { RemediationRecord } from './record.js';
import { runName } from './report.js';
import { queueRun } from './runner.js';
import type { RunStore } from './runs.js';

export interface DecideDeps {
  store: RunStore;
  record: RemediationRecord;
  /** Without a queue (the CLI) an approved run is queued by the sweeper's next pass. */
  queue?: Queue<QueuePayloads['remediate']>;
  agentId: string;
}

/**
 * A person's answer to a run waiting for approval (Slack button, CLI). Only a run of that incident,
 * still waiting and not expired, changes; of two answers at once, the first wins.
 */
export async function decide(
  d: DecideDeps,
  incidentId: string,
  runId: string,
  approve: boolean,
  actor: string,
): Promise<{ changed: boolean; message: string }> {
  // A button's value is the sender's text: only a run id of ours is looked up.
  const run = /^\d{1,18}$/.test(runId) ? await d.store.get(runId) : undefined;
  if (!run || run.incidentId !== incidentId)
    return { changed: false, message: `Incident #${incidentId} has no remediation run ${runId}` };
  if (run.state !== 'awaiting-approval') {
    const by = run.decidedBy ? ` (decided by ${run.decidedBy})` : '';
    return { changed: false, message: `Run ${runId} is not waiting for approval: it is ${run.state}${by}` };
  }
  if (run.approvalExpiresAt && run.approvalExpiresAt.getTime() <= Date.now())
    return { changed: false, message: `The approval of run ${runId} has expired: it will not run` };
  const moved = await d.store.decide(runId, approve, actor);
  if (!moved)
    return {
      changed: false,
      message: `Run ${runId} was not ${approve ? 'approved' : 'rejected'}: decided by someone else, expired, or its incident resolved meanwhile`,
    };
  const note = approve
    ? `👍 ${runName(run)} approved by ${actor}: running it`
    : `👎 ${runName(run)} rejected by ${actor}: not run`;
  await d.record.tell(run.incidentId, run.id, 'remediation', note, actor);
  if (approve && d.queue) await queueRun(d.queue, run.id, 'approved');
  return {
    changed: true,
    message: approve ? `Approved run ${runId} of #${incidentId}` : `Rejected run ${runId} of #${incidentId}`,
  };
}
