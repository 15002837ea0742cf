import { WebClient } from '@slack/web-api';
import { hrNow } from '../src/demo/records.js';
import { renderSlack } from '../src/notify/slack-template.js';
import { sampleIncident } from './baseline.js';
import type { BurstWorld } from './burst-world.js';
import { summarize, type Summary } from './stats.js';

export interface SlackHop {
  perSec: number;
  latency: Summary;
}

/**
 * The Slack hop alone at burst size: the same client, configured as src/notify/slack.ts configures
 * it, posting `n` incident messages to the same emulator with as many requests in flight as the
 * notify worker may have. What a burst would cost if nothing but Slack stood in the way.
 */
export async function measureSlackHop(world: BurstWorld, n: number, concurrency: number): Promise<SlackHop> {
  const slack = world.config.slack;
  if (!slack) throw new Error('bench: Slack is not configured');
  const client = new WebClient(slack.token, {
    slackApiUrl: slack.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: slack.timeout,
  });
  const services = Array.from({ length: n }, (_, i) => `hop-${world.id}-${i}`);
  const messages = services.map((s) =>
    renderSlack({ incident: sampleIncident(s), kind: 'opened', links: {} }),
  );
  const index = new Map(services.map((s, i) => [s, i]));
  const sent = new Array<number>(n);
  const received = new Array<number>(n);
  let seen = 0;
  let allSeen: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allSeen = resolve));
  const stop = world.receivers.onSlack((call) => {
    const i = call.status === 200 ? index.get(call.services[0] ?? '') : undefined;
    if (i === undefined || received[i] !== undefined) return;
    received[i] = call.hr;
    if (++seen === n) allSeen();
  });
  let next = 0;
  const t0 = hrNow();
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const m = messages[i] as (typeof messages)[number];
      sent[i] = hrNow();
      await client.chat.postMessage({ channel: slack.channel, text: m.text, blocks: m.blocks });
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`bench: Slack hop: ${seen}/${n} posts reported`)), 10_000);
    });
    await Promise.race([done, late]).finally(() => clearTimeout(timer));
  } finally {
    stop();
  }
  const last = Math.max(...received);
  return {
    perSec: n / ((last - t0) / 1000),
    latency: summarize(received.map((r, i) => r - (sent[i] as number))),
  };
}
