import { createServer, type AddressInfo } from 'node:net';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { fixZombieTasks } from '../../src/remediate/actions/fix-zombie-tasks.js';
import { DATABASE_URL } from '../support/env.js';
import { until } from '../support/quiet.js';
import { createZombieWorld, type ZombieWorld } from '../support/zombie-tasks.js';

let world: ZombieWorld;
beforeEach(async () => {
  world = await createZombieWorld();
});
afterEach(async () => {
  await world.close();
});

const spec = (extra: Record<string, unknown> = {}) =>
  fixZombieTasks.schema.parse({
    action: 'fix-zombie-tasks',
    url: DATABASE_URL,
    table: world.table,
    stuckFor: '30m',
    maxAttempts: 3,
    ...extra,
  });

it('fails, naming why, on a missing table or an unreachable server; changes nothing', async () => {
  const missing = world.context('run-missing');
  expect(await fixZombieTasks.run(spec({ table: `${world.schema}.nope` }), missing.ctx)).toEqual({
    outcome: 'failed',
    summary: expect.stringMatching(
      /^fixed no tasks; then batch 1 failed: relation ".*nope" does not exist$/,
    ) as string,
  });
  expect(missing.steps.map((s) => `${s.name} ${s.outcome}`)).toEqual(['connect ok', 'batch 1 failed']);

  const port = await closedPort();
  const down = world.context('run-down');
  const result = await fixZombieTasks.run(
    spec({ url: `postgres://postgres:secret@127.0.0.1:${port}/test` }),
    down.ctx,
  );
  expect(result.outcome).toBe('failed');
  expect(result.summary).toMatch(
    /^could not connect to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/test: /,
  );
  expect(down.steps.map((s) => `${s.name} ${s.outcome}`)).toEqual(['connect failed']);
});

it('on abort stops waiting at once, rolls its batch back and says so', async () => {
  await world.add(3, 'processing', 1, null, 120);
  const before = await world.rows();
  // A migration holding the table: the batch waits for it (up to its 10s timeout).
  const migration = await world.tableLock();
  const abort = new AbortController();
  const { ctx, steps } = world.context('run-abort', abort.signal);
  const running = fixZombieTasks.run(spec(), ctx);
  await until('the batch to wait on the table lock', async () => {
    const { rows } = await world.db.query(
      `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
      [`vigil remediate ${ctx.target}`],
    );
    return rows.length === 1;
  });
  abort.abort();
  expect(await running).toEqual({
    outcome: 'failed',
    summary: 'fixed no tasks; then batch 1 failed: aborted',
  });
  expect(steps.map((s) => `${s.name} ${s.outcome}`)).toEqual(['connect ok', 'batch 1 failed']);
  await migration.release();
  expect(await world.rows()).toEqual(before);
});

/** A port nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
