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
         ack_sla_ms, held, held_by)
       VALUES ('task-failure-rate{}', 'task-failure-rate', 'HELIX task failure rate above 5 %', 'business',
         'high', 'firing', now(), 600000, 'inhibited', $1)`,
      [source],
    );
    // Several sweeps pass with the source open: nothing is sent.
    await quietPeriod(500);
    expect(env.slack.calls.filter(isPost)).toEqual([]);

    await env.db.query(
      `UPDATE ${s}.vigil_incidents SET state = 'resolved', resolved_at = now() WHERE id = $1`,
      [source],
    );
    const post = await env.slack.waitFor(isPost);
    expect(JSON.stringify(post.args)).toContain('HELIX task failure rate above 5 %');
    const mail = await env.smtp.waitFor((m) => m.subject.includes('HELIX task failure rate above 5 %'));
    // The audit note travels with the message: people read why they hear of it only now.
    expect(mail.text).toContain(`database-unreachable #${source} resolved`);
    await quietPeriod();
    expect(env.slack.calls.filter(isPost)).toHaveLength(1);
    expect(env.smtp.messages.filter((m) => m.subject.includes('task failure rate'))).toHaveLength(1);
  });
});
