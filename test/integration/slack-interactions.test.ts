import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent.js';
import type { SlackCall } from '../../src/demo/slack-emulator.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { quietPeriod, until } from '../support/quiet.js';

const signingSecret = 'test-signing-secret-0123456789';
const alice = { id: 'U0ALICE', name: 'alice' };
const isPost = (c: SlackCall) => c.method === 'chat.postMessage' && c.status === 200 && !c.args.thread_ts;

let env: TestEnv;
afterEach(async () => env?.cleanup());

/** An agent whose api-health incident has an ack SLA of 3 s, with Slack interactivity by HTTP or socket. */
async function agentWith(slack: { signingSecret?: string; appToken?: string }): Promise<Agent> {
  env = await createTestEnv({ healthEvery: '150ms' });
  const agent = env.agent(
    env.config({
      slack: { token: 'xoxb-test', apiUrl: env.slack.url, channel: 'C0ALERTS', timeout: '2s', ...slack },
      rules: {
        dir: 'test/fixtures/rules-ack-3s',
        vars: { HELIX_API_URL: env.helix.url, HELIX_HEALTH_EVERY: '150ms', HELIX_HEALTH_TIMEOUT: '100ms' },
      },
    }),
  );
  await agent.start();
  return agent;
}

/** Fires the incident and returns its Slack message. */
async function fire(): Promise<{ id: string; channel: string; ts: string }> {
  env.helix.setHealthy(false);
  const post = await env.slack.waitFor(isPost);
  const { channel, ts } = post.response as { channel: string; ts: string };
  const { rows } = await env.db.query<{ id: string }>(`SELECT id FROM ${env.schema}.vigil_incidents`);
  return { id: rows[0]!.id, channel, ts };
}

interface Snapshot {
  state: string;
  acknowledged_by: string | null;
  escalate_at: Date | null;
  transitions: { kind: string; actor: string }[];
}

async function snapshot(id: string): Promise<Snapshot> {
  const incident = await env.db.query<Omit<Snapshot, 'transitions'>>(
    `SELECT state, acknowledged_by, escalate_at FROM ${env.schema}.vigil_incidents WHERE id = $1`,
    [id],
  );
  const transitions = await env.db.query<{ kind: string; actor: string }>(
    `SELECT kind, actor FROM ${env.schema}.vigil_incident_transitions WHERE incident_id = $1 ORDER BY seq`,
    [id],
  );
  return { ...incident.rows[0]!, transitions: transitions.rows };
}

const updatedAcknowledged = (c: SlackCall) =>
  c.method === 'chat.update' && c.status === 200 && /acknowledged by alice/i.test(String(c.args.text));

/** Acknowledged by alice through Slack: audit row, message updated, and no escalation after the SLA. */
async function expectAcknowledgedByAlice(id: string): Promise<void> {
  await env.slack.waitFor(updatedAcknowledged);
  const after = await snapshot(id);
  expect(after.state).toBe('acknowledged');
  expect(after.acknowledged_by).toBe('alice (slack U0ALICE)');
  expect(after.escalate_at).toBeNull();
  expect(after.transitions).toContainEqual({ kind: 'acknowledged', actor: 'alice (slack U0ALICE)' });
  // Past the 3 s ack SLA: nothing escalated, and the acknowledgement was made once.
  await quietPeriod(3500);
  const later = await snapshot(id);
  expect(later.transitions.map((t) => t.kind)).not.toContain('escalated');
  expect(later.transitions.filter((t) => t.kind === 'acknowledged')).toHaveLength(1);
  expect(env.smtp.messages.filter((m) => m.headers.get('x-vigil-kind') === 'escalated')).toEqual([]);
  expect(env.slack.calls.filter((c) => /Escalated/.test(String(c.args.text)))).toEqual([]);
}

describe('Slack interactivity over HTTP', () => {
  it('a correctly signed Acknowledge is answered at once and acknowledges, as the Slack user', async () => {
    const agent = await agentWith({ signingSecret });
    env.slack.interactivity({ requestUrl: `${agent.httpUrl}/slack/interactions`, signingSecret });
    const incident = await fire();

    const res = await env.slack.press({ ...incident, actionId: 'vigil_ack', user: alice });
    expect(res).toMatchObject({ status: 200, body: '' });
    await expectAcknowledgedByAlice(incident.id);
    expect(
      agent.metrics.value('vigil_slack_interactions_total', { transport: 'http', outcome: 'queued' }),
    ).toBe(1);
    // Pressed again (an old copy of the message): nothing changes, and only the presser is told why.
    expect((await env.slack.press({ ...incident, actionId: 'vigil_ack', value: incident.id })).status).toBe(
      200,
    );
    const note = await env.slack.waitFor((c) => c.method === 'response_url');
    expect(note.args).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/already acknowledged/),
    });
  });

  it('refuses a forged signature, a stale timestamp, no signature and a replay with 401, and changes nothing', async () => {
    const agent = await agentWith({ signingSecret });
    env.slack.interactivity({ requestUrl: `${agent.httpUrl}/slack/interactions`, signingSecret });
    const incident = await fire();
    const press = { ...incident, actionId: 'vigil_ack', user: alice };

    const forged = await env.slack.press({ ...press, signingSecret: 'not-the-secret' });
    const stale = await env.slack.press({ ...press, timestampSec: Math.floor(Date.now() / 1000) - 360 });
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    const unsigned = await env.slack.post({ ...forged.request!, headers });
    expect([forged.status, stale.status, unsigned.status]).toEqual([401, 401, 401]);
    await quietPeriod(1000);
    const refusedOnly = await snapshot(incident.id);
    expect(refusedOnly).toMatchObject({ state: 'firing', acknowledged_by: null });
    expect(refusedOnly.transitions.map((t) => t.kind)).not.toContain('acknowledged');

    // Signed correctly it is taken once; the same bytes sent again are a replay.
    const taken = await env.slack.press(press);
    expect(taken.status).toBe(200);
    await env.slack.waitFor(updatedAcknowledged);
    const replay = await env.slack.post(taken.request!);
    expect(replay.status).toBe(401);
    await quietPeriod(1500);
    const after = await snapshot(incident.id);
    expect(after.acknowledged_by).toBe('alice (slack U0ALICE)');
    expect(after.transitions.filter((t) => t.kind === 'acknowledged')).toHaveLength(1);

    const refused = (outcome: string) =>
      agent.metrics.value('vigil_slack_interactions_total', { transport: 'http', outcome });
    const reasons = ['bad signature', 'stale timestamp', 'missing headers', 'replayed', 'queued'];
    expect(reasons.map(refused)).toEqual([1, 1, 1, 1, 1]);
  });

  it('answers 400 naming the field of a bad payload', async () => {
    const agent = await agentWith({ signingSecret });
    env.slack.interactivity({ requestUrl: `${agent.httpUrl}/slack/interactions`, signingSecret });
    const incident = await fire();
    const bad = await env.slack.press({ ...incident, actionId: 'vigil_ack', value: 'twelve' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toEqual({
      error: expect.stringMatching(/^actions\.0\.value: an incident id/),
    });
    await quietPeriod(500);
    expect((await snapshot(incident.id)).state).toBe('firing');
  });

  it('Resolve and Not actionable buttons resolve by hand and keep the feedback, as the Slack user', async () => {
    const agent = await agentWith({ signingSecret });
    env.slack.interactivity({ requestUrl: `${agent.httpUrl}/slack/interactions`, signingSecret });
    const incident = await fire();
    const press = { ...incident, value: incident.id, user: alice };
    expect((await env.slack.press({ ...press, actionId: 'vigil_not_actionable' })).status).toBe(200);
    expect((await env.slack.press({ ...press, actionId: 'vigil_resolve' })).status).toBe(200);
    await env.slack.waitFor((c) => c.method === 'chat.update' && /RESOLVED/.test(String(c.args.text)));
    const after = await snapshot(incident.id);
    expect(after.state).toBe('resolved');
    expect(after.transitions).toContainEqual({ kind: 'resolved', actor: 'alice (slack U0ALICE)' });
    const feedback = await env.db.query(
      `SELECT kind, actor FROM ${env.schema}.vigil_feedback WHERE incident_id = $1`,
      [incident.id],
    );
    expect(feedback.rows).toEqual([{ kind: 'not-actionable', actor: 'alice (slack U0ALICE)' }]);
  });

  it('Approve and Reject naming a run the incident does not have change nothing, and say so to the presser', async () => {
    const agent = await agentWith({ signingSecret });
    env.slack.interactivity({ requestUrl: `${agent.httpUrl}/slack/interactions`, signingSecret });
    const incident = await fire();
    for (const value of [`${incident.id}:run-7`, `${incident.id}:7777`]) {
      expect(
        (await env.slack.press({ ...incident, actionId: 'vigil_approve', value, user: alice })).status,
      ).toBe(200);
      expect(
        (await env.slack.press({ ...incident, actionId: 'vigil_reject', value, user: alice })).status,
      ).toBe(200);
    }
    const unchanged = (action: string) =>
      agent.metrics.value('vigil_actions_total', { action, outcome: 'unchanged' });
    await until('all four answered', () => unchanged('approve') === 2 && unchanged('reject') === 2);
    const told = env.slack.calls.filter((c) => c.method === 'response_url');
    expect(told.map((c) => String(c.args.text))).toContain(
      `Incident #${incident.id} has no remediation run 7777`,
    );
    expect((await snapshot(incident.id)).state).toBe('firing');
  });

  it('without a signing secret refuses everything with 401', async () => {
    const agent = await agentWith({});
    env.slack.interactivity({ requestUrl: `${agent.httpUrl}/slack/interactions`, signingSecret });
    const incident = await fire();
    expect((await env.slack.press({ ...incident, actionId: 'vigil_ack' })).status).toBe(401);
    await quietPeriod(500);
    expect((await snapshot(incident.id)).state).toBe('firing');
  });
});

describe('Slack interactivity over Socket Mode', () => {
  it('an Acknowledge pressed over the socket acknowledges, as the Slack user; close() leaves no connection', async () => {
    const agent = await agentWith({ appToken: 'xapp-1-test' });
    env.slack.interactivity({ socketMode: true });
    const incident = await fire();

    const res = await env.slack.press({ ...incident, actionId: 'vigil_ack', user: alice });
    expect(res.status).toBe(200);
    await expectAcknowledgedByAlice(incident.id);
    expect(env.slack.socketConnections()).toBe(1);
    await agent.close();
    await until('the socket to close', () => env.slack.socketConnections() === 0);
  });

  it('reconnects when Slack drops the connection, and presses work again', async () => {
    await agentWith({ appToken: 'xapp-1-test' });
    env.slack.interactivity({ socketMode: true });
    const incident = await fire();
    await until('the socket to connect', () => env.slack.socketConnections() === 1);
    env.slack.dropSocketConnections();
    expect(env.slack.socketConnections()).toBe(0);

    const res = await env.slack.press({ ...incident, actionId: 'vigil_ack', user: alice });
    expect(res.status).toBe(200);
    await env.slack.waitFor(updatedAcknowledged);
    expect(
      env.slack.calls.filter((c) => c.method === 'apps.connections.open' && c.status === 200),
    ).toHaveLength(2);
  });

  it('a refused app token: the agent starts anyway, /healthz says why, and close() ends the retries', async () => {
    const agent = await agentWith({ appToken: 'xoxb-not-an-app-token' });
    await until('the refusal to show in /healthz', async () => {
      const res = await fetch(`${agent.httpUrl}/healthz`);
      const body = (await res.json()) as { problems?: Record<string, string> };
      return /not_allowed_token_type/.test(body.problems?.['slack-socket'] ?? '');
    });
    await agent.close();
    expect(env.slack.socketConnections()).toBe(0);
  });
});
