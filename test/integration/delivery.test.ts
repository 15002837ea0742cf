import { afterEach, describe, expect, it } from 'vitest';
import type { SlackCall } from '../../src/demo/slack-emulator.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

const isPost = (c: SlackCall) => c.method === 'chat.postMessage' && c.status === 200 && !c.args.thread_ts;

let env: TestEnv;
afterEach(async () => env?.cleanup());

describe('notification delivery through the queue', () => {
  it("waits out Slack's Retry-After on 429 and then posts exactly once", async () => {
    env = await createTestEnv({ healthEvery: '150ms' });
    env.slack.failNext(1, { status: 429, retryAfterSec: 1 });
    const agent = env.agent();
    await agent.start();
    env.helix.setHealthy(false);

    const posted = await env.slack.waitFor(isPost);
    const limited = env.slack.calls.find((c) => c.status === 429);
    expect(limited).toBeDefined();
    expect(posted.hr - limited!.hr).toBeGreaterThanOrEqual(1000);
    expect(env.slack.calls.filter(isPost)).toHaveLength(1);
    // The email channel is independent: Slack's rate limit did not hold it back.
    const mail = await env.smtp.waitFor((m) => /CRITICAL/.test(m.subject));
    expect(mail.hr).toBeLessThan(posted.hr);
  });

  it('does not post twice when Slack took the message but the answer was lost', async () => {
    env = await createTestEnv({ healthEvery: '150ms' });
    env.slack.failNext(1, { status: 500, accepted: true });
    const agent = env.agent();
    await agent.start();
    env.helix.setHealthy(false);
    await env.slack.waitFor((c) => c.status === 500);
    // The retry looks before posting, finds the message by its metadata, and records it.
    await env.slack.waitFor((c) => c.method === 'conversations.history');
    env.helix.setHealthy(true);
    const updated = await env.slack.waitFor((c) => c.method === 'chat.update' && c.status === 200);

    const messages = env.slack.messages();
    expect(messages).toHaveLength(1);
    expect(updated.args.ts).toBe(messages[0]!.ts);
    expect(JSON.stringify(messages[0]!.blocks)).toMatch(/resolved/i);
  });

  it('a resolution queued while the first Slack message is rate limited waits for it, then updates it', async () => {
    env = await createTestEnv({ healthEvery: '150ms' });
    env.slack.failNext(1, { status: 429, retryAfterSec: 2 });
    const agent = env.agent();
    await agent.start();
    env.helix.setHealthy(false);
    await env.slack.waitFor((c) => c.status === 429);
    env.helix.setHealthy(true);
    // Email is not rate limited: its resolved mail proves the resolution was queued meanwhile.
    await env.smtp.waitFor((m) => /RESOLVED/.test(m.subject));
    expect(env.slack.calls.filter(isPost)).toHaveLength(0);

    const posted = await env.slack.waitFor(isPost);
    const updated = await env.slack.waitFor((c) => c.method === 'chat.update' && c.status === 200);
    expect(updated.args.ts).toBe((posted.response as { ts: string }).ts);
    expect(updated.hr).toBeGreaterThan(posted.hr);
    expect(env.slack.calls.filter(isPost)).toHaveLength(1);
  });

  it('retries Slack 500s and SMTP 451s with backoff until delivered, once each', async () => {
    env = await createTestEnv({ healthEvery: '150ms' });
    env.slack.failNext(2, { status: 500 });
    env.smtp.failNext(2, { code: 451, message: 'try again later' });
    const agent = env.agent();
    await agent.start();
    env.helix.setHealthy(false);

    await env.slack.waitFor(isPost);
    await env.smtp.waitFor((m) => /CRITICAL/.test(m.subject));
    expect(env.slack.calls.filter((c) => c.status === 500)).toHaveLength(2);
    expect(env.smtp.rejected).toHaveLength(2);
    expect(env.slack.calls.filter(isPost)).toHaveLength(1);
    expect(env.smtp.messages).toHaveLength(1);
  });

  it('escalates an incident nobody acknowledged within its ack SLA, once', async () => {
    env = await createTestEnv({ healthEvery: '150ms' });
    const config = env.config({
      rules: {
        dir: 'test/fixtures/rules-short-sla',
        vars: { HELIX_API_URL: env.helix.url, HELIX_HEALTH_EVERY: '150ms', HELIX_HEALTH_TIMEOUT: '100ms' },
      },
    });
    const agent = env.agent(config);
    await agent.start();
    env.helix.setHealthy(false);

    const posted = await env.slack.waitFor(isPost);
    const ts = (posted.response as { ts: string }).ts;
    const reply = await env.slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.thread_ts === ts);
    expect(JSON.stringify(reply.args)).toMatch(/escalat/i);
    const mail = await env.smtp.waitFor((m) => m.inReplyTo !== undefined);
    expect(mail.text).toMatch(/escalat|acknowledged/i);

    const { rows } = await env.db.query(
      `SELECT to_state, note FROM ${env.schema}.vigil_incident_transitions ORDER BY seq`,
    );
    expect(rows.map((r) => r.note)).toEqual([
      expect.stringMatching(/consecutive failures/),
      expect.stringMatching(/ack SLA/),
    ]);

    env.helix.setHealthy(true);
    await env.slack.waitFor(
      (c) => c.method === 'chat.update' && /resolved/i.test(JSON.stringify(c.args.blocks)),
    );
    const replies = env.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts === ts);
    expect(replies).toHaveLength(1);
  });
});
