import { afterEach, describe, expect, it } from 'vitest';
import type { SlackCall } from '../../src/demo/slack-emulator.js';
import { quietPeriod, until } from '../support/quiet.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

let env: TestEnv;
afterEach(async () => env?.cleanup());

const postTo = (channel: string) => (c: SlackCall) =>
  c.method === 'chat.postMessage' && c.status === 200 && c.args.channel === channel;

const targets = {
  crit: { slack: 'C0CRIT' },
  leads: { slack: 'C0LEADS', mention: 'S0LEADS' },
  mgmt: { email: ['boss@example.test'] },
};

async function transitions(kind: string) {
  const { rows } = await env.db.query<{ seq: number; actor: string; note: string }>(
    `SELECT seq, actor, note FROM ${env.schema}.vigil_incident_transitions WHERE kind = $1 ORDER BY seq`,
    [kind],
  );
  return rows;
}

describe('routing and escalation policies', () => {
  it('routes by severity, then pages each step of the policy at its delay, up to its cap', async () => {
    env = await createTestEnv({ healthEvery: '100ms', healthTimeout: '50ms' });
    const agent = env.agent(
      env.config({
        rules: { ...env.config().rules, dir: 'test/fixtures/rules-short-sla' },
        targets,
        routes: [
          { match: { severity: 'critical' }, to: ['crit', 'email'], escalation: 'page' },
          { to: ['slack'] },
        ],
        escalation: {
          policies: {
            page: {
              steps: [{ to: ['leads'] }, { after: '400ms', to: ['mgmt'] }],
              repeat: 1,
            },
          },
        },
      }),
    );
    await agent.start();
    env.helix.setHealthy(false);
    const first = await env.slack.waitFor(postTo('C0CRIT'));
    expect(first.args.thread_ts).toBeUndefined();
    await env.smtp.waitFor((m) => m.to.includes('oncall@example.test'));

    // Step 1 to the leads' channel, step 2 to the managers' list, then both again (repeat: 1), then no more.
    await env.slack.waitFor((c) => postTo('C0LEADS')(c) && !c.args.thread_ts);
    await env.smtp.waitFor((m) => m.to.includes('boss@example.test'));
    await until('four escalations', async () => (await transitions('escalated')).length === 4);
    // Slack is paced (about one message a second): wait for everything owed to go out.
    await until(
      'every notification sent',
      async () =>
        (await env.db.query(`SELECT 1 FROM ${env.schema}.vigil_deliveries WHERE state <> 'sent'`))
          .rowCount === 0,
      30_000,
    );
    await quietPeriod(1500);
    const steps = await transitions('escalated');
    // Each step at its delay: the first at the rule's ack SLA (400ms), the next 400ms after, and so on.
    const { rows: times } = await env.db.query<{ ms: number }>(
      `SELECT (extract(epoch FROM t.at - i.started_at) * 1000)::float8 AS ms FROM ${env.schema}.vigil_incident_transitions t
       JOIN ${env.schema}.vigil_incidents i ON i.id = t.incident_id WHERE t.kind = 'escalated' ORDER BY t.seq`,
    );
    times.forEach((t, k) => expect(t.ms).toBeGreaterThanOrEqual(400 * (k + 1)));
    expect(steps.map((s) => s.note)).toEqual([
      expect.stringContaining('step 1 of 4 (policy "page") to leads'),
      expect.stringContaining('step 2 of 4 (policy "page") to mgmt'),
      expect.stringContaining('step 3 of 4 (policy "page") to leads'),
      expect.stringContaining('step 4 of 4 (policy "page") to mgmt; last step'),
    ]);
    // The leads' channel: their first page, then a reply for each later step in its thread. Only the
    // steps that are theirs page them.
    const leadPosts = env.slack.calls.filter(postTo('C0LEADS'));
    expect(leadPosts.map((c) => c.args.thread_ts === undefined)).toEqual([true, false, false, false]);
    const { rows: pages } = await env.db.query(
      `SELECT seq, target, page FROM ${env.schema}.vigil_deliveries WHERE kind = 'escalated' AND target = 'leads' ORDER BY seq`,
    );
    expect(pages.map((p) => p.page)).toEqual([true, false, true, false]);
    // The managers' list: paged at steps 2 and 4, told of step 3 in the same thread.
    expect(env.smtp.messages.filter((m) => m.to.includes('boss@example.test'))).toHaveLength(3);
    // The catch-all's channel heard nothing: the critical route matched first.
    expect(env.slack.calls.filter(postTo('C0ALERTS'))).toHaveLength(0);
  });

  it('an acknowledgement made twice at once happens once, stops escalation and updates the message', async () => {
    env = await createTestEnv({ healthEvery: '100ms', healthTimeout: '50ms' });
    const agent = env.agent(
      env.config({
        targets,
        rules: { ...env.config().rules, dir: 'test/fixtures/rules-sla-2s' },
        routes: [{ to: ['slack'], escalation: 'page' }],
        escalation: { policies: { page: { steps: [{ to: ['leads'] }] } } },
      }),
    );
    await agent.start();
    env.helix.setHealthy(false);
    const posted = await env.slack.waitFor(postTo('C0ALERTS'));
    const { rows } = await env.db.query<{ id: string }>(`SELECT id FROM ${env.schema}.vigil_incidents`);
    const id = rows[0]!.id;
    const outcomes = await Promise.all([
      agent.actions.ack(id, { name: 'alice', via: 'cli' }),
      agent.actions.ack(id, { name: 'bob', via: 'api' }),
    ]);
    expect(outcomes.filter((o) => o.changed)).toHaveLength(1);
    const loser = outcomes.find((o) => !o.changed)!;
    expect(loser.message).toMatch(/already acknowledged by (alice \(cli\)|bob \(api\))/);

    const update = await env.slack.waitFor(
      (c) => c.method === 'chat.update' && c.args.ts === (posted.response as { ts: string }).ts,
    );
    expect(JSON.stringify(update.args.blocks)).toMatch(/acknowledged/i);
    await quietPeriod(2500);
    expect(await transitions('acknowledged')).toHaveLength(1);
    expect(await transitions('escalated')).toHaveLength(0);
    expect(env.slack.calls.filter(postTo('C0LEADS'))).toHaveLength(0);
  });

  it('an acknowledgement lapses while still firing: firing again, told, escalation starts over', async () => {
    env = await createTestEnv({ healthEvery: '100ms', healthTimeout: '50ms' });
    const agent = env.agent(env.config({ oncall: { ackExpiry: '500ms' } }));
    await agent.start();
    env.helix.setHealthy(false);
    await env.slack.waitFor(postTo('C0ALERTS'));
    const { rows } = await env.db.query<{ id: string }>(`SELECT id FROM ${env.schema}.vigil_incidents`);
    const acked = await agent.actions.ack(rows[0]!.id, { name: 'carol', via: 'slack', id: 'U0CAROL' });
    expect(acked.incident?.acknowledgedBy).toBe('carol (slack U0CAROL)');
    await until('the ack to expire', async () => (await transitions('ack-expired')).length === 1);
    const [expired] = await transitions('ack-expired');
    expect(expired!.note).toMatch(/^acknowledged by carol \(slack U0CAROL\); still firing/);
    const incident = await agent.incidents.get(rows[0]!.id);
    expect(incident?.state).toBe('firing');
    expect(incident?.escalationStep).toBe(0);
    await env.smtp.waitFor((m) => /acknowledgement expired/i.test(m.subject + m.text));
    await quietPeriod(1000);
    expect(await transitions('ack-expired')).toHaveLength(1);
  });

  it('escalation starts over after an unacknowledge, though it escalated before the acknowledgement', async () => {
    env = await createTestEnv({ healthEvery: '100ms', healthTimeout: '50ms' });
    const agent = env.agent(
      env.config({ rules: { ...env.config().rules, dir: 'test/fixtures/rules-short-sla' } }),
    );
    await agent.start();
    env.helix.setHealthy(false);
    await until('the first escalation', async () => (await transitions('escalated')).length === 1);
    const { rows } = await env.db.query<{ id: string }>(`SELECT id FROM ${env.schema}.vigil_incidents`);
    const erin = { name: 'erin', via: 'cli' } as const;
    expect((await agent.actions.ack(rows[0]!.id, erin)).changed).toBe(true);
    expect((await agent.actions.unack(rows[0]!.id, erin)).changed).toBe(true);
    await until(
      'an escalation after the unacknowledge',
      async () => (await transitions('escalated')).length === 2,
    );
    await quietPeriod(1000);
    expect(await transitions('escalated')).toHaveLength(2);
    expect((await agent.incidents.get(rows[0]!.id))?.escalationStep).toBe(1);
  });

  it('unacknowledge and resolve by hand are recorded with who did it and told to everyone told; a condition that still holds fires again', async () => {
    env = await createTestEnv({ healthEvery: '100ms', healthTimeout: '50ms' });
    const agent = env.agent();
    await agent.start();
    env.helix.setHealthy(false);
    await env.slack.waitFor(postTo('C0ALERTS'));
    await env.smtp.waitFor(() => true);
    const { rows } = await env.db.query<{ id: string }>(`SELECT id FROM ${env.schema}.vigil_incidents`);
    const id = rows[0]!.id;
    const dave = { name: 'dave', via: 'cli' } as const;
    expect((await agent.actions.unack(id, dave)).message).toMatch(/is not acknowledged/);
    expect((await agent.actions.ack(id, dave)).changed).toBe(true);
    expect((await agent.actions.unack(id, dave, 'handing over')).changed).toBe(true);
    const resolved = await agent.actions.resolve(id, dave, 'restarted it');
    expect(resolved.incident?.resolvedBy).toBe('dave (cli)');
    expect(resolved.message).toMatch(/fire again as a new incident/);
    expect((await agent.actions.resolve(id, dave)).message).toMatch(/already resolved/);
    await env.smtp.waitFor((m) => /RESOLVED/.test(m.subject));
    const { rows: trail } = await env.db.query(
      `SELECT kind, actor, note FROM ${env.schema}.vigil_incident_transitions WHERE incident_id = $1 ORDER BY seq`,
      [id],
    );
    expect(trail).toEqual([
      expect.objectContaining({ kind: 'opened' }),
      { kind: 'acknowledged', actor: 'dave (cli)', note: '' },
      { kind: 'unacknowledged', actor: 'dave (cli)', note: 'handing over' },
      { kind: 'resolved', actor: 'dave (cli)', note: 'resolved by hand: restarted it' },
    ]);
    // The API still fails: its series started over, and fires again as a new incident that says why.
    await until('the series to fire again', async () => {
      const { rowCount } = await env.db.query(`SELECT 1 FROM ${env.schema}.vigil_incidents WHERE id <> $1`, [
        id,
      ]);
      return rowCount === 1;
    });
    const { rows: again } = await env.db.query<{ note: string }>(
      `SELECT t.note FROM ${env.schema}.vigil_incident_transitions t WHERE t.incident_id <> $1 AND t.kind = 'opened'`,
      [id],
    );
    expect(again[0]!.note).toMatch(
      /fired again: dave \(cli\) resolved the last one by hand at \d\d:\d\d:\d\dZ while it still held/,
    );
    // …and its message says so, as does the resolve-by-hand reply of the first one.
    await env.slack.waitFor(
      (c) => postTo('C0ALERTS')(c) && /fired again: dave \(cli\)/.test(JSON.stringify(c.args.blocks)),
    );
    const reply = await env.smtp.waitFor((m) => /resolved by hand: restarted it/.test(m.text));
    expect(reply.subject).toMatch(/RESOLVED/);
    await quietPeriod(800);
    const { rows: sent } = await env.db.query(
      `SELECT channel, kind, state FROM ${env.schema}.vigil_deliveries WHERE incident_id = $1 ORDER BY seq, channel`,
      [id],
    );
    expect(sent.filter((r) => r.state !== 'sent')).toEqual([]);
    expect(sent.map((r) => `${r.channel}:${r.kind}`)).toEqual([
      'email:opened',
      'slack:opened',
      'email:acknowledged',
      'slack:acknowledged',
      'email:unacknowledged',
      'slack:unacknowledged',
      'email:resolved',
      'slack:resolved',
    ]);
  });
});
