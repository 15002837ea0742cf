import { WebClient } from '@slack/web-api';
import { hrNow } from '../src/demo/records.js';
import type { Incident } from '../src/contracts/incident.js';
import { renderSlack } from '../src/notify/slack-template.js';
import { isPostFor } from './vigil-alerts.js';
import type { World } from './world.js';

/** An incident like the ones the bench opens, so the baseline posts a message of the same size. */
export function sampleIncident(service: string): Incident {
  return {
    id: '1',
    fingerprint: `api-health{service="${service}"}`,
    ruleId: 'api-health',
    title: 'HELIX API health check fails',
    category: 'availability',
    severity: 'critical',
    labels: { service },
    state: 'firing',
    value: 3,
    summary:
      '3 consecutive failures of helix-api-health: status 503; status is "degraded", expected "healthy"',
    startedAt: new Date(),
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    ackSlaMs: 300_000,
    seq: 1,
    targets: [],
    policy: null,
    escalationStep: 0,
    ackExpiresAt: null,
    resolvedBy: null,
    held: null,
    heldBy: null,
  };
}

/**
 * The hop Vigil cannot avoid: the same @slack/web-api client, configured as src/notify/slack.ts
 * configures it, posting the same kind of message to the same emulator (in the receivers process),
 * one at a time.
 */
export async function measureBaseline(world: World, label: string, count: number): Promise<number[]> {
  const slack = world.config.slack;
  if (!slack) throw new Error('bench: Slack is not configured');
  const client = new WebClient(slack.token, {
    slackApiUrl: slack.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: slack.timeout,
  });
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const service = `${label}-${String(i).padStart(4, '0')}`;
    const message = renderSlack({ incident: sampleIncident(service), kind: 'opened', links: {} });
    const seen = world.receivers.waitForSlack(isPostFor(service));
    const t0 = hrNow();
    const res = await client.chat.postMessage({
      channel: slack.channel,
      text: message.text,
      blocks: message.blocks,
    });
    const call = await seen;
    if (!res.ok) throw new Error(`bench: baseline chat.postMessage failed: ${res.error ?? '?'}`);
    out.push(call.hr - t0);
  }
  return out;
}
