import type { Job } from 'bullmq';
import { actorText, type Incident } from '../contracts/incident.js';
import type { ActionJob } from '../contracts/queues.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { ActionOutcome, IncidentActions } from './actions.js';

/** What the Silence button needs of the silences store (src/incidents/silences.ts). */
export interface IncidentSilencer {
  forIncident(
    incident: Incident,
    forMs: number,
    createdBy: string,
    reason: string,
  ): Promise<{ id: string; endsAt: Date }>;
}

export interface ActionWorkerDeps {
  actions: Pick<IncidentActions, 'ack' | 'unack' | 'resolve' | 'feedback'>;
  silences: IncidentSilencer;
  incident(id: string): Promise<Incident | undefined>;
  /** Approve / Reject of a remediation run (src/remediate/decide.ts). */
  decide(
    incidentId: string,
    runId: string,
    approve: boolean,
    actor: string,
  ): Promise<{ changed: boolean; message: string }>;
  /** How long the Slack "Silence" button silences (oncall.silenceFor). */
  silenceForMs: number;
  /** Slack's API base: a response_url elsewhere than Slack (or the emulator) is not called. */
  slackApiUrl: string | undefined;
  metrics: Metrics;
  log: Logger;
}

/** A response_url must point at Slack: a payload must not make the agent POST wherever it says. */
function mayRespondTo(responseUrl: string, slackApiUrl: string | undefined): boolean {
  try {
    const url = new URL(responseUrl);
    if (url.protocol === 'https:' && url.hostname === 'hooks.slack.com') return true;
    return slackApiUrl !== undefined && url.origin === new URL(slackApiUrl).origin;
  } catch {
    return false;
  }
}

async function run(d: ActionWorkerDeps, job: ActionJob): Promise<ActionOutcome> {
  const { incidentId: id, actor } = job;
  switch (job.action) {
    case 'ack':
      return d.actions.ack(id, actor);
    case 'unack':
      return d.actions.unack(id, actor);
    case 'resolve':
      return d.actions.resolve(id, actor);
    case 'not-actionable':
      return d.actions.feedback(id, actor, 'not-actionable');
    case 'silence': {
      const incident = await d.incident(id);
      if (!incident) return { changed: false, incident, message: `There is no incident #${id}` };
      const silence = await d.silences.forIncident(
        incident,
        d.silenceForMs,
        actorText(actor),
        'silenced from Slack',
      );
      return {
        changed: true,
        incident,
        message: `Silenced #${id} until ${silence.endsAt.toISOString()} (silence ${silence.id})`,
      };
    }
    case 'approve':
    case 'reject': {
      const decided = job.runId
        ? await d.decide(id, job.runId, job.action === 'approve', actorText(actor))
        : { changed: false, message: 'The button names no remediation run' };
      return { ...decided, incident: undefined };
    }
  }
}

/** The processor of `action` jobs on the events queue: what a person asked for in Slack, done. */
export function actionProcessor(d: ActionWorkerDeps): (job: Job<ActionJob>) => Promise<string> {
  const log = d.log.child({ component: 'actions' });
  return async (job) => {
    const data = job.data;
    const outcome = await run(d, data);
    d.metrics.inc('vigil_actions_total', {
      action: data.action,
      outcome: outcome.changed ? 'changed' : 'unchanged',
    });
    log.info(
      {
        action: data.action,
        incident: data.incidentId,
        actor: actorText(data.actor),
        changed: outcome.changed,
      },
      outcome.message,
    );
    if (!outcome.changed && data.responseUrl) await tell(d, log, data.responseUrl, outcome.message);
    return outcome.message;
  };
}

/** Tells the person who pressed why nothing happened (ephemeral: only they see it). Best effort. */
async function tell(d: ActionWorkerDeps, log: Logger, responseUrl: string, text: string): Promise<void> {
  if (!mayRespondTo(responseUrl, d.slackApiUrl)) {
    log.warn({ responseUrl }, 'response_url not on Slack: not called');
    return;
  }
  try {
    const res = await fetch(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) log.warn({ status: res.status }, 'response_url refused the note');
  } catch (err) {
    log.warn({ err: errorMessage(err) }, 'response_url not reached');
  }
}
