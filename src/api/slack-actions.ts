import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Queue } from 'bullmq';
import { VigilError } from '../errors.js';
import { ACTION_JOB, type ActionJob, type ActionName, type QueuePayloads } from '../contracts/queues.js';

/**
 * What each button asks for. Approve/Reject carry `<incidentId>:<runId>` as their value (the
 * remediation run they are about); the others carry the incident id.
 */
export const slackButtonActions: Readonly<Record<string, ActionName>> = {
  vigil_ack: 'ack',
  vigil_unack: 'unack',
  vigil_resolve: 'resolve',
  vigil_silence: 'silence',
  vigil_not_actionable: 'not-actionable',
  vigil_approve: 'approve',
  vigil_reject: 'reject',
};

/** A payload Slack would not send, or one that names no incident: answered 400 with the reason. */
export class SlackPayloadError extends VigilError {
  constructor(message: string) {
    super('E_SLACK_PAYLOAD', message);
  }
}

const text = z.string().min(1).max(200);
const payloadSchema = z.object({
  type: text,
  user: z.object({ id: text, username: text.optional(), name: text.optional() }).optional(),
  trigger_id: text.optional(),
  response_url: z.url({ protocol: /^https?$/ }).optional(),
  actions: z
    .array(z.object({ action_id: text, value: z.string().max(200).optional(), action_ts: text.optional() }))
    .max(25)
    .optional(),
});

export interface SlackActionJob {
  /** Deterministic: the same press delivered twice (HTTP and socket, a retry) is one job. */
  id: string;
  data: ActionJob;
}

/** Where a field sits in the payload, e.g. `actions.0.value`, for the 400's message. */
const where = (path: readonly PropertyKey[]) => (path.length ? path.map(String).join('.') : 'payload');

function parse(raw: unknown): z.infer<typeof payloadSchema> {
  const result = payloadSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new SlackPayloadError(issue ? `${where(issue.path)}: ${issue.message}` : 'not a Slack payload');
}

/**
 * Turns an interaction payload (HTTP or Socket Mode) into action jobs. Anything but button presses
 * (`block_actions`), and buttons that are not ours (the "Open" link), make no job.
 */
export function slackActionJobs(raw: unknown, receivedAt = Date.now()): SlackActionJob[] {
  const p = parse(raw);
  if (p.type !== 'block_actions') return [];
  if (!p.user) throw new SlackPayloadError('user: required in block_actions');
  const { user } = p;
  const actor = { name: user.username ?? user.name ?? user.id, via: 'slack' as const, id: user.id };
  return (p.actions ?? []).flatMap((a, i) => {
    const action = Object.hasOwn(slackButtonActions, a.action_id)
      ? slackButtonActions[a.action_id]
      : undefined;
    if (!action) return [];
    const [incidentId = '', runId, ...rest] = (a.value ?? '').split(':');
    const remediation = action === 'approve' || action === 'reject';
    if (!/^\d{1,18}$/.test(incidentId) || rest.length || (runId !== undefined && !remediation))
      throw new SlackPayloadError(
        `actions.${i}.value: ${remediation ? '"<incident id>:<run id>"' : 'an incident id'} expected, got ${JSON.stringify(a.value ?? '')}`,
      );
    if (remediation && !runId) throw new SlackPayloadError(`actions.${i}.value: the run id is missing`);
    const key = [p.trigger_id ?? '', a.action_ts ?? '', a.action_id, incidentId, user.id].join('|');
    const data: ActionJob = {
      action,
      incidentId,
      actor,
      receivedAt,
      ...(p.response_url ? { responseUrl: p.response_url } : {}),
      ...(runId ? { runId } : {}),
    };
    return [{ id: `slack-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`, data }];
  });
}

/** Adds the jobs to the events queue as `action` jobs (see QueuePayloads.events). */
export async function enqueueActionJobs(
  queue: Queue<QueuePayloads['events']>,
  jobs: readonly SlackActionJob[],
): Promise<void> {
  if (jobs.length)
    await queue.addBulk(jobs.map((j) => ({ name: ACTION_JOB, data: j.data, opts: { jobId: j.id } })));
}
