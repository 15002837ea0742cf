import { afterEach, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import type { SlackCall } from '../../src/demo/slack-emulator.js';

const isPost = (c: SlackCall) => c.method === 'chat.postMessage' && c.status === 200;
const isUpdate = (c: SlackCall) => c.method === 'chat.update' && c.status === 200;
const blocksText = (c: SlackCall) => JSON.stringify(c.args.blocks);

let env: TestEnv;
afterEach(async () => env?.cleanup());

async function incidentRows(env: TestEnv) {
  const { rows } = await env.db.query(
    `SELECT id, state, value FROM ${env.schema}.vigil_incidents ORDER BY id`,
  );
  return rows as Array<{ id: string; state: string; value: number }>;
}

describe('HELIX API health, end to end on real PostgreSQL, Redis, Slack client and SMTP', () => {
  it('alerts once after the third failed probe, then resolves in place and in the same email thread', async () => {
    // The sim sees only the answers it gave: a run timing out on a busy machine would be a failure it
    // never recorded, so the timeout leaves room.
    env = await createTestEnv({ healthEvery: '250ms', healthTimeout: '200ms' });
    const agent = env.agent();
    await agent.start();
    await env.helix.waitForRequests(1, (r) => r.healthy);
    env.helix.setHealthy(false);

    const posted = await env.slack.waitFor(isPost);
    const failures = env.helix.healthRequests.filter((r) => !r.healthy);
    expect(failures.length).toBeGreaterThanOrEqual(3);
    // The alert went out after the third failed answer, not after the second.
    expect(posted.hr).toBeGreaterThan(failures[2]!.at);
    expect(String(posted.args.channel)).toBe('C0ALERTS');
    expect(blocksText(posted)).toContain('HELIX API health check fails');
    expect(blocksText(posted)).toContain('api-health');
    expect(blocksText(posted)).toMatch(/critical/i);
    const [incident] = await incidentRows(env);
    expect(blocksText(posted)).toContain(`*Incident*\\n#${incident!.id}`);
    expect(blocksText(posted)).toContain('*Value*\\n3');
    expect(blocksText(posted)).toMatch(/\*Since\*\\n\d\d:\d\d UTC \(\d+ s\)/);
    const opened = await env.smtp.waitFor((m) => /CRITICAL/.test(m.subject));
    expect(opened.subject).toContain('HELIX API health check fails');

    env.helix.setHealthy(true);
    const updated = await env.slack.waitFor(isUpdate);
    expect(updated.args.ts).toBe(posted.response && (posted.response as { ts: string }).ts);
    expect(blocksText(updated)).toMatch(/resolved/i);
    const resolvedMail = await env.smtp.waitFor((m) => /RESOLVED/.test(m.subject));
    expect(resolvedMail.inReplyTo).toBe(opened.messageId);
    expect(resolvedMail.references).toContain(opened.messageId);

    const rows = await incidentRows(env);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.state).toBe('resolved');
    expect(rows[0]!.value).toBe(3);
    expect(env.slack.calls.filter(isPost)).toHaveLength(1);
    expect(env.slack.calls.filter(isUpdate)).toHaveLength(1);
    expect(env.smtp.messages).toHaveLength(2);
  });

  it('keeps one incident and no duplicate message when the agent restarts between failure and recovery', async () => {
    env = await createTestEnv({ healthEvery: '200ms' });
    const first = env.agent();
    await first.start();
    env.helix.setHealthy(false);
    const posted = await env.slack.waitFor(isPost);
    await env.smtp.waitFor((m) => /CRITICAL/.test(m.subject));
    // Let a few more failures land while it is already firing, then stop the agent.
    const before = env.helix.healthRequests.length;
    await env.helix.waitForRequests(before + 2);
    await first.close();

    const second = env.agent(env.config({ agentId: `test-${env.id}-restarted` }));
    await second.start();
    await env.helix.waitForRequests(env.helix.healthRequests.length + 2);
    env.helix.setHealthy(true);
    const updated = await env.slack.waitFor(isUpdate);
    expect(updated.args.ts).toBe((posted.response as { ts: string }).ts);
    const resolvedMail = await env.smtp.waitFor((m) => /RESOLVED/.test(m.subject));
    expect(resolvedMail.inReplyTo).toBeDefined();

    const rows = await incidentRows(env);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.state).toBe('resolved');
    expect(env.slack.calls.filter(isPost)).toHaveLength(1);
    expect(env.slack.calls.filter(isUpdate)).toHaveLength(1);
    expect(env.smtp.messages.filter((m) => /CRITICAL/.test(m.subject))).toHaveLength(1);
    expect(env.smtp.messages.filter((m) => /RESOLVED/.test(m.subject))).toHaveLength(1);
  });

  it('two agents sharing Redis and PostgreSQL open one incident and send one message', async () => {
    env = await createTestEnv({ healthEvery: '200ms' });
    const a = env.agent();
    const b = env.agent(env.config({ agentId: `test-${env.id}-b` }));
    await Promise.all([a.start(), b.start()]);
    env.helix.setHealthy(false);
    await env.slack.waitFor(isPost);
    await env.smtp.waitFor((m) => /CRITICAL/.test(m.subject));
    env.helix.setHealthy(true);
    await env.slack.waitFor(isUpdate);
    await env.smtp.waitFor((m) => /RESOLVED/.test(m.subject));

    expect(await incidentRows(env)).toHaveLength(1);
    expect(env.slack.calls.filter(isPost)).toHaveLength(1);
    expect(env.smtp.messages).toHaveLength(2);
    // One scheduler: each 200 ms interval's probe ran on one agent, not on both (which would
    // double the count). Late runs under load can bunch up, but never add runs.
    const times = env.helix.healthRequests.map((r) => r.at);
    const intervals = (times[times.length - 1]! - times[0]!) / 200;
    expect(times.length).toBeLessThanOrEqual(Math.floor(intervals) + 2);
  });
});
