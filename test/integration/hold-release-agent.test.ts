import { afterEach, describe, expect, it } from 'vitest';
import type { SlackCall } from '../../src/demo/slack-emulator.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { quietPeriod } from '../support/quiet.js';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

const isPost = (c: SlackCall) => c.method === 'chat.postMessage' && c.status === 200 && !c.args.thread_ts;
// A busy machine may time the world's health probe out: its api-health incident is not what we count.
const about = (title: string) => (c: SlackCall) => isPost(c) && String(c.args.text).includes(title);
const tasks = about('HELIX task failure rate above 5 %');

describe('hold releases in a running agent', () => {
  it('the sweeper releases an incident whose inhibitor resolved, and it is delivered once per channel', async () => {
    env = await createTestEnv();
    const agents = [env.agent(), env.agent()];
    await Promise.all(agents.map((a) => a.start()));
    const s = env.schema;
    const { rows } = await env.db.query<{ id: string }>(
      `INSERT INTO ${s}.vigil_incidents (fingerprint, rule_id, title, category, severity, state, started_at,
         resolved_at, ack_sla_ms)
       VALUES ('database-unreachable{}', 'database-unreachable', 'HELIX database unreachable', 'availability',
         'critical', 'firing', now(), NULL, 300000) RETURNING id`,
    );
    const source = rows[0]!.id;
    await env.db.query(
      `INSERT INTO ${s}.vigil_incidents (fingerprint, rule_id, title, category, severity, state, started_at,
         ack_sla_ms, held, held_by, targets)
       VALUES ('task-failure-rate{}', 'task-failure-rate', 'HELIX task failure rate above 5 %', 'business',
         'high', 'firing', now(), 600000, 'inhibited', $1, '{slack,email}')`,
      [source],
    );
    // Several sweeps pass with the source open: nothing is sent.
    await quietPeriod(500);
    expect(env.slack.calls.filter(tasks)).toEqual([]);

    await env.db.query(
      `UPDATE ${s}.vigil_incidents SET state = 'resolved', resolved_at = now() WHERE id = $1`,
      [source],
    );
    await env.slack.waitFor(tasks);
    const mail = await env.smtp.waitFor((m) => m.subject.includes('HELIX task failure rate above 5 %'));
    // The audit note travels with the message: people read why they hear of it only now.
    expect(mail.text).toContain(`database-unreachable #${source} resolved`);
    await quietPeriod();
    expect(env.slack.calls.filter(tasks)).toHaveLength(1);
    expect(env.smtp.messages.filter((m) => m.subject.includes('task failure rate'))).toHaveLength(1);
  });

  it('a flapping series found stable is told once, to those told it was flapping', async () => {
    env = await createTestEnv();
    const cfg = env.config({ oncall: { flapping: { changes: 2, window: '1m', stableFor: '300ms' } } });
    const agents = [env.agent(cfg), env.agent(cfg)];
    await Promise.all(agents.map((a) => a.start()));
    const s = env.schema;
    const insert = (startedAt: string, resolvedAt: string | null) =>
      env!.db.query<{ id: string }>(
        `INSERT INTO ${s}.vigil_incidents (fingerprint, rule_id, title, category, severity, state, started_at,
           resolved_at, ack_sla_ms, held, held_by)
         VALUES ('api-health{}', 'api-health', 'A flapping series', 'availability', 'critical',
           CASE WHEN $2::timestamptz IS NULL THEN 'firing' ELSE 'resolved' END, $1, $2, 300000,
           'flapping', 'api-health{}') RETURNING id`,
        [startedAt, resolvedAt],
      );
    const since = new Date(Date.now() - 5000).toISOString();
    const lead = (await insert(since, new Date(Date.now() - 4000).toISOString())).rows[0]!.id;
    // The flapping notice went out on Slack only (say email was added to the route later).
    await env.db.query(
      `INSERT INTO ${s}.vigil_deliveries (incident_id, channel, target, seq, kind, state, external_id)
       VALUES ($1, 'slack', '', 1, 'flapping', 'sent', '1700000000.000100')`,
      [lead],
    );
    const latest = (await insert(new Date(Date.now() - 3000).toISOString(), null)).rows[0]!.id;
    await env.db.query(
      `INSERT INTO ${s}.vigil_flapping (fingerprint, since, last_change) VALUES ($1, $2, $2)`,
      ['api-health{}', since],
    );

    const flapping = about('A flapping series');
    const post = await env.slack.waitFor(flapping);
    expect(JSON.stringify(post.args)).toContain(`#${latest}`);
    await quietPeriod();
    expect(env.slack.calls.filter(flapping)).toHaveLength(1);
    expect(env.smtp.messages.filter((m) => m.subject.includes('A flapping series'))).toEqual([]);
    const { rows } = await env.db.query(
      `SELECT kind, note FROM ${s}.vigil_incident_transitions WHERE incident_id = $1`,
      [latest],
    );
    expect(rows).toEqual([
      { kind: 'stable', note: `stable for 300ms after flapping (notice on #${lead}): still firing` },
    ]);
  });
});
