import { afterEach, describe, expect, it } from 'vitest';
import type { SlackCall } from '../../src/demo/slack-emulator.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { quietPeriod, until } from '../support/quiet.js';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

/** The notification kind a Slack call carried (from the metadata Vigil tags messages with). */
const kindOf = (c: SlackCall) =>
  c.status === 200 && (c.method === 'chat.postMessage' || c.method === 'chat.update')
    ? (c.args.metadata as { event_payload?: { kind?: string } } | undefined)?.event_payload?.kind
    : undefined;

describe('flapping in a running agent', () => {
  it('one "flapping" notice in, nothing while it flaps, one "stable" notice out', async () => {
    env = await createTestEnv();
    const world = env;
    const cfg = world.config({
      rules: { dir: 'test/fixtures/rules-inhibit', vars: {} },
      oncall: { flapping: { changes: 2, window: '1m', stableFor: '1s' } },
    });
    const agents = [world.agent(cfg), world.agent(cfg)];
    await Promise.all(agents.map((a) => a.start()));
    let n = 0;
    const changes = async (ok: boolean) => {
      const before = n;
      await agents[0]!.ingest({
        id: `e${++n}`,
        source: 'manual',
        name: 'db-ping',
        at: new Date().toISOString(),
        host: 'test',
        labels: { host: 'h1' },
        ok,
      });
      // One change at a time: the engine judges a batch by its last observation.
      await until(`change ${before + 1} recorded`, async () => {
        const { rows } = await world.db.query<{ opened: string; resolved: string }>(
          `SELECT count(*) AS opened, count(resolved_at) AS resolved FROM ${world.schema}.vigil_incidents`,
        );
        return Number(rows[0]!.opened) + Number(rows[0]!.resolved) === before + 1;
      });
    };

    for (const ok of [false, true, false, true, false]) await changes(ok);
    await world.slack.waitFor((c) => kindOf(c) === 'stable', { timeoutMs: 20_000 });
    await quietPeriod();

    const kinds = world.slack.calls.map(kindOf).filter((k) => k !== undefined);
    expect(kinds.filter((k) => k === 'flapping')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'stable')).toHaveLength(1);
    // The first incident went out as usual; the third (held silently) was told only by "stable".
    expect(kinds.filter((k) => k === 'opened')).toHaveLength(1);
    const { rows } = await world.db.query<{ id: string; held: string | null; state: string }>(
      `SELECT id, held, state FROM ${world.schema}.vigil_incidents ORDER BY id`,
    );
    expect(rows.map((r) => [r.state, r.held])).toEqual([
      ['resolved', null],
      ['resolved', 'flapping'],
      ['firing', null],
    ]);
    expect((await world.db.query(`SELECT * FROM ${world.schema}.vigil_flapping`)).rows).toEqual([]);
  }, 60_000);
});
