import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { SlackCall } from '../../src/demo/slack-emulator.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { quietPeriod } from '../support/quiet.js';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

interface Told {
  alone: string[];
  digested: string[];
  digestPosts: number;
}

/** Which incidents the Slack calls that succeeded told, alone or in a digest (from their metadata). */
function toldOnSlack(calls: readonly SlackCall[]): Told {
  const told: Told = { alone: [], digested: [], digestPosts: 0 };
  for (const c of calls) {
    if (c.status !== 200 || (c.method !== 'chat.postMessage' && c.method !== 'chat.update')) continue;
    const meta = c.args.metadata as
      { event_type?: string; event_payload?: Record<string, unknown> } | undefined;
    const p = meta?.event_payload ?? {};
    if (meta?.event_type === 'vigil_notification' && p.kind === 'opened') told.alone.push(String(p.incident));
    if (meta?.event_type === 'vigil_digest') {
      told.digested.push(...String(p.added).split(',').filter(Boolean));
      if (c.method === 'chat.postMessage') told.digestPosts++;
    }
  }
  return told;
}

describe('a storm under Slack’s real rate limit becomes a digest: every incident told, none twice', () => {
  it('200 incidents opening at once: the first 10 alone, the rest in one digest; nothing failed for good', async () => {
    env = await createTestEnv({ slackRateLimit: true });
    const world = env;
    const agent = world.agent(
      world.config({
        rules: { dir: 'test/fixtures/rules-storm', vars: {} },
        notify: { backoff: '50ms', sweepEvery: '100ms' },
      }),
    );
    await agent.start();
    const at = new Date().toISOString();
    await Promise.all(
      Array.from({ length: 200 }, (_, k) =>
        agent.ingest({
          id: `storm-${k}`,
          source: 'manual',
          name: 'storm-check',
          at,
          host: 'test',
          labels: { target: `t${String(k).padStart(3, '0')}` },
          ok: false,
        }),
      ),
    );
    // Incidents open as the events are evaluated; wait until Slack has told all 200.
    await world.slack.waitFor(
      () => {
        const t = toldOnSlack(world.slack.calls);
        return new Set([...t.alone, ...t.digested]).size >= 200;
      },
      { timeoutMs: 25_000 },
    );
    await quietPeriod();
    const ids = (
      await world.db.query<{ id: string }>(`SELECT id FROM ${world.schema}.vigil_incidents ORDER BY id`)
    ).rows.map((r) => r.id);
    expect(ids).toHaveLength(200);

    const slack = toldOnSlack(world.slack.calls);
    expect(slack.alone).toHaveLength(10);
    expect(slack.digestPosts).toBe(1);
    expect([...slack.alone, ...slack.digested].sort()).toEqual([...ids].sort());

    // Email: the same ten alone, the rest listed in digest mails, each incident once.
    const aloneMail = world.smtp.messages.flatMap((m) => {
      const id = m.headers.get('x-vigil-incident');
      return id ? [String(id)] : [];
    });
    const digestMail = world.smtp.messages
      .filter((m) => m.headers.get('x-vigil-digest'))
      .flatMap((m) => [...m.text.matchAll(/ #(\d+) /g)].map((x) => x[1]!));
    expect(aloneMail).toHaveLength(10);
    expect([...aloneMail, ...digestMail].sort()).toEqual([...ids].sort());

    for (const name of ['notify-slack', 'notify-email']) {
      const q = new Queue(name, { connection: world.redis, prefix: world.prefix });
      expect((await q.getJobCounts('failed')).failed).toBe(0);
      await q.close();
    }
    const owed = await world.db.query(
      `SELECT count(*)::int AS n FROM ${world.schema}.vigil_deliveries WHERE state <> 'sent'`,
    );
    expect(owed.rows[0].n).toBe(0);
  });
});

describe('a storm that has passed', () => {
  it('the next alert after every storm incident resolved gets a message of its own, not a digest edit', async () => {
    env = await createTestEnv();
    const world = env;
    const agent = world.agent(
      world.config({
        // Unpaced (this emulator has no rate limit): only the storm logic is at stake here.
        slack: { ...world.config().slack!, rateLimit: { perSecond: 0, burst: 1 } },
        rules: { dir: 'test/fixtures/rules-storm', vars: {} },
        notify: { sweepEvery: '100ms' },
      }),
    );
    await agent.start();
    const event = (k: number, ok: boolean) => ({
      id: `s-${k}-${ok}`,
      source: 'manual' as const,
      name: 'storm-check',
      at: new Date().toISOString(),
      host: 'test',
      labels: { target: `t${k}` },
      ok,
    });
    await Promise.all(Array.from({ length: 12 }, (_, k) => agent.ingest(event(k, false))));
    await world.slack.waitFor(() => toldOnSlack(world.slack.calls).digested.length >= 2);
    await Promise.all(Array.from({ length: 12 }, (_, k) => agent.ingest(event(k, true))));
    // Every incident of the storm resolved: its digest says so (the two it lists, none open).
    await world.slack.waitFor(
      (c) => c.status === 200 && /2 incidents \(0 open, 2 resolved\)/.test(String(c.args.text)),
    );

    await agent.ingest(event(99, false));
    const alone = await world.slack.waitFor((c) => {
      const p = (c.args.metadata as { event_payload?: Record<string, unknown> } | undefined)?.event_payload;
      return (
        c.method === 'chat.postMessage' &&
        c.status === 200 &&
        p?.kind === 'opened' &&
        !c.args.thread_ts &&
        toldOnSlack([c]).alone.length === 1 &&
        JSON.stringify(c.args.blocks).includes('t99')
      );
    });
    expect(alone).toBeDefined();
  });
});
