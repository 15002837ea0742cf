import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { until } from '../support/quiet.js';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

const countOf = async (agent: Agent) => (await agent.thresholds.snapshot()).get('api-health/count');

describe('the thresholds table, live', () => {
  it('a change made with plain SQL reaches two running agents within a second (LISTEN, not the 5 s reread)', async () => {
    const world = await createTestEnv();
    env = world;
    const agents = [world.agent(world.config()), world.agent(world.config())];
    await Promise.all(agents.map((a) => a.start()));
    // Both have just read the table: without the NOTIFY they would not read it again for 5 s.
    expect(await Promise.all(agents.map(countOf))).toEqual([undefined, undefined]);

    await world.db.query(
      `INSERT INTO ${world.schema}.vigil_thresholds (rule_id, key, value) VALUES ('api-health', 'count', 1)`,
    );
    await until(
      'both agents use count 1',
      async () => (await Promise.all(agents.map(countOf))).every((c) => c === 1),
      1000,
    );

    // And it is what the rules use: one failing health check now opens the incident (the file says 3).
    world.helix.setHealthy(false);
    const opened = async () =>
      (await world.db.query(`SELECT rule_id, value FROM ${world.schema}.vigil_incidents`)).rows;
    await until('an incident opens', async () => (await opened()).length > 0);
    expect(await opened()).toEqual([{ rule_id: 'api-health', value: 1 }]);
    world.helix.setHealthy(true);

    await world.db.query(
      `UPDATE ${world.schema}.vigil_thresholds SET value = 2 WHERE rule_id = 'api-health'`,
    );
    await until(
      'both agents use count 2',
      async () => (await Promise.all(agents.map(countOf))).every((c) => c === 2),
      1000,
    );

    await world.db.query(`DELETE FROM ${world.schema}.vigil_thresholds`);
    await until(
      'both agents are back on the file default',
      async () => (await Promise.all(agents.map(countOf))).every((c) => c === undefined),
      1000,
    );
  });

  it('a bad row (here count 0 by plain SQL) shows on /metrics with its rule and key until it is fixed', async () => {
    const world = await createTestEnv();
    env = world;
    const agent = world.agent(world.config({ http: { host: '127.0.0.1', port: 0 } }));
    await agent.start();
    const gauge = /^vigil_threshold_rows_invalid\{rule="api-health",key="count"\} (\d+)$/m;
    const scrape = async () => gauge.exec(await (await fetch(`${agent.httpUrl}/metrics`)).text())?.[1];

    await world.db.query(
      `INSERT INTO ${world.schema}.vigil_thresholds (rule_id, key, value) VALUES ('api-health', 'count', 0)`,
    );
    await until('the bad row is on /metrics', async () => (await scrape()) === '1');
    expect(agent.thresholds.invalid()).toEqual([
      { rule: 'api-health', key: 'count', value: 0, problem: 'count must be a whole number ≥ 1, got 0' },
    ]);
    expect(await countOf(agent)).toBeUndefined();

    await world.db.query(`UPDATE ${world.schema}.vigil_thresholds SET value = 4`);
    await until('the fixed row is no longer flagged', async () => (await scrape()) === '0');
    expect(await countOf(agent)).toBe(4);
  });
});
