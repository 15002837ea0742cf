import { afterEach, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../src/db/pool.js';
import { parseMatcher, Silences } from '../../src/incidents/silences.js';
import type { SlackCall } from '../../src/demo/slack-emulator.js';
import { createTestEnv, DATABASE_URL, type TestEnv } from '../support/env.js';
import { quietPeriod, until } from '../support/quiet.js';

const isPost = (c: SlackCall) => c.method === 'chat.postMessage' && c.status === 200 && !c.args.thread_ts;

let env: TestEnv | undefined;
let pool: Pool | undefined;
afterEach(async () => {
  await pool?.end();
  await env?.cleanup();
  env = pool = undefined;
});

async function world() {
  env = await createTestEnv({ healthEvery: '150ms' });
  pool = createPool({ url: DATABASE_URL, schema: env.schema, poolSize: 2 }, `vigil silences-test-${env.id}`);
  const agent = env.agent();
  await agent.start();
  return { env, silences: new Silences(pool), pool };
}

/** Delivery rows of a kind sent on both channels. */
const sentOnBoth = (p: Pool, kind: string) => async () =>
  (
    await p.query<{ n: string }>(
      `SELECT count(DISTINCT channel) AS n FROM vigil_deliveries WHERE kind = $1 AND state = 'sent'`,
      [kind],
    )
  ).rows[0]?.n === '2';

describe('silences in a running agent', () => {
  it('those told it fired hear once that it is silenced and once that it is released; the resolution reaches them', async () => {
    const { env, silences, pool } = await world();
    env.helix.setHealthy(false);
    await env.slack.waitFor(isPost);
    await env.smtp.waitFor((m) => /CRITICAL/.test(m.subject));

    const silence = await silences.add({
      matchers: [parseMatcher('rule=api-health')],
      endsAt: new Date(Date.now() + 3_600_000),
      createdBy: 'alice',
      reason: 'deploy',
    });
    const silenced = await env.smtp.waitFor((m) => /silenced/.test(m.text));
    expect(silenced.inReplyTo).toBeDefined();
    await until('the silenced notice on Slack too', sentOnBoth(pool, 'silenced'));
    const { rows } = await pool.query(`SELECT held, held_by, escalate_at FROM vigil_incidents`);
    expect(rows).toEqual([{ held: 'silenced', held_by: silence.id, escalate_at: null }]);

    await silences.expire(silence.id, 'bob');
    await env.smtp.waitFor((m) => /is firing \(no longer/.test(m.text));
    await until('the released notice on Slack too', sentOnBoth(pool, 'released'));

    env.helix.setHealthy(true);
    await env.smtp.waitFor((m) => /RESOLVED/.test(m.subject));
    await until('the resolution on Slack too', sentOnBoth(pool, 'resolved'));
    await quietPeriod();
    const count = (re: RegExp) => env.smtp.messages.filter((m) => re.test(m.text)).length;
    expect([count(/Incident #\d+ silenced/), count(/is firing \(no longer/)]).toEqual([1, 1]);
    expect(env.slack.calls.filter(isPost)).toHaveLength(1);
    const kinds = await pool.query(
      `SELECT kind, count(*)::int AS n FROM vigil_deliveries GROUP BY kind ORDER BY kind`,
    );
    expect(kinds.rows).toEqual([
      { kind: 'opened', n: 2 },
      { kind: 'released', n: 2 },
      { kind: 'resolved', n: 2 },
      { kind: 'silenced', n: 2 },
    ]);
    const audit = await pool.query(`SELECT kind, actor, note FROM vigil_incident_transitions ORDER BY seq`);
    expect(audit.rows).toMatchObject([
      { kind: 'opened' },
      { kind: 'silenced', actor: 'alice', note: `silenced by #${silence.id}: deploy (alice)` },
      { kind: 'released', note: `silence #${silence.id} expired by bob` },
      { kind: 'resolved' },
    ]);
  }, 60_000);

  it('silenced before it fires: recorded, nothing sent, not even its resolution', async () => {
    const { env, silences, pool } = await world();
    const silence = await silences.add({
      matchers: [parseMatcher('rule=api-health')],
      endsAt: new Date(Date.now() + 3_600_000),
      createdBy: 'alice',
      reason: 'deploy',
    });
    env.helix.setHealthy(false);
    const opened = async () => (await pool.query(`SELECT 1 FROM vigil_incidents`)).rowCount === 1;
    await until('the incident recorded', opened);
    env.helix.setHealthy(true);
    const resolved = async () =>
      (await pool.query(`SELECT 1 FROM vigil_incidents WHERE state = 'resolved'`)).rowCount === 1;
    await until('the incident resolved', resolved);
    await quietPeriod();
    expect(env.slack.messages()).toEqual([]);
    expect(env.smtp.messages).toEqual([]);
    expect((await pool.query(`SELECT * FROM vigil_deliveries`)).rows).toEqual([]);
    const { rows } = await pool.query(`SELECT held, held_by FROM vigil_incidents`);
    expect(rows).toEqual([{ held: 'silenced', held_by: silence.id }]);
    const audit = await pool.query(`SELECT kind, note FROM vigil_incident_transitions ORDER BY seq`);
    expect(audit.rows).toEqual([
      { kind: 'opened', note: expect.stringContaining(`silenced by #${silence.id}: deploy (alice)`) },
      { kind: 'resolved', note: expect.any(String) },
    ]);
  }, 60_000);

  it('resolved while silenced: the resolution reaches those told it fired, and nothing is released', async () => {
    const { env, silences, pool } = await world();
    env.helix.setHealthy(false);
    const posted = await env.slack.waitFor(isPost);
    await env.smtp.waitFor((m) => /CRITICAL/.test(m.subject));
    await silences.add({
      matchers: [parseMatcher('rule=api-health')],
      endsAt: new Date(Date.now() + 3_600_000),
      createdBy: 'alice',
      reason: 'deploy',
    });
    await until('the silenced notice on both', sentOnBoth(pool, 'silenced'));
    env.helix.setHealthy(true);
    const mail = await env.smtp.waitFor((m) => /RESOLVED/.test(m.subject));
    expect(mail.inReplyTo).toBeDefined();
    await env.slack.waitFor(
      (c) =>
        c.method === 'chat.update' &&
        c.args.ts === (posted.response as { ts: string }).ts &&
        /resolved/i.test(JSON.stringify(c.args.blocks)),
    );
    await quietPeriod();
    const kinds = await pool.query(
      `SELECT kind, count(*)::int AS n FROM vigil_deliveries WHERE state = 'sent' GROUP BY kind ORDER BY kind`,
    );
    expect(kinds.rows).toEqual([
      { kind: 'opened', n: 2 },
      { kind: 'resolved', n: 2 },
      { kind: 'silenced', n: 2 },
    ]);
    expect(env.smtp.messages.filter((m) => /RESOLVED/.test(m.subject))).toHaveLength(1);
  }, 60_000);
});
