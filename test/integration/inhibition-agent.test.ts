import { afterEach, describe, expect, it } from 'vitest';
import type { SlackCall } from '../../src/demo/slack-emulator.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { quietPeriod, until } from '../support/quiet.js';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

const posted = (title: string) => (c: SlackCall) =>
  c.method === 'chat.postMessage' &&
  c.status === 200 &&
  !c.args.thread_ts &&
  String(c.args.text).includes(title);

describe('inhibition in a running agent', () => {
  it("a dependant rule's incident is recorded and sent to nobody while its source fires, then released once", async () => {
    env = await createTestEnv();
    const world = env;
    const cfg = world.config({ rules: { dir: 'test/fixtures/rules-inhibit', vars: {} } });
    const agents = [world.agent(cfg), world.agent(cfg)];
    await Promise.all(agents.map((a) => a.start()));
    let n = 0;
    const observe = (name: string, host: string, ok: boolean) =>
      agents[0]!.ingest({
        id: `e${++n}`,
        source: 'manual',
        name,
        at: new Date().toISOString(),
        host: 'test',
        labels: { host },
        ok,
      });
    const incident = async (rule: string, host: string) => {
      const { rows } = await world.db.query<{ id: string; state: string; held: string | null }>(
        `SELECT id, state, held FROM ${world.schema}.vigil_incidents
         WHERE rule_id = $1 AND labels ->> 'host' = $2 ORDER BY id DESC LIMIT 1`,
        [rule, host],
      );
      return rows[0];
    };

    await observe('db-ping', 'h1', false);
    await world.slack.waitFor(posted('Database down'));
    await observe('task', 'h1', false);
    // Another host's tasks have nothing holding them.
    await observe('task', 'h2', false);
    await until('both task incidents recorded', async () =>
      Boolean((await incident('task-errors', 'h1')) && (await incident('task-errors', 'h2'))),
    );
    const other = await incident('task-errors', 'h2');
    await world.slack.waitFor(
      (c) => posted('Tasks failing')(c) && String(c.args.text).includes(`#${other!.id}`),
    );
    await quietPeriod();
    const held = await incident('task-errors', 'h1');
    expect(held).toMatchObject({ state: 'firing', held: 'inhibited' });
    const tasksTold = () => world.slack.calls.filter(posted('Tasks failing'));
    const tasksMailed = () => world.smtp.messages.filter((m) => m.subject.includes('Tasks failing'));
    // Only h2's: h1's was recorded and told to nobody.
    expect(tasksTold()).toHaveLength(1);
    expect(tasksMailed()).toHaveLength(1);

    await observe('db-ping', 'h1', true);
    await world.slack.waitFor(
      (c) => posted('Tasks failing')(c) && String(c.args.text).includes(`#${held!.id}`),
    );
    await quietPeriod();
    expect(tasksTold()).toHaveLength(2);
    expect(tasksMailed()).toHaveLength(2);
    const { rows } = await world.db.query(
      `SELECT kind, note FROM ${world.schema}.vigil_incident_transitions WHERE incident_id = $1 ORDER BY seq`,
      [held!.id],
    );
    const source = await incident('db-down', 'h1');
    expect(rows.map((r) => r.kind)).toEqual(['opened', 'released']);
    expect(rows[0]!.note).toContain(`inhibited by #${source!.id} (db-down)`);
    expect(rows[1]!.note).toBe(`db-down #${source!.id} resolved`);
    expect(await incident('task-errors', 'h1')).toMatchObject({ state: 'firing', held: null });
  });
});
