import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { runCli } from '../support/cli.js';
import { createTestEnv, DATABASE_URL, REDIS_URL, type TestEnv } from '../support/env.js';
import { auditRows, insertDelivery, insertIncident, stateOf } from '../support/oncall.js';
import { quietPeriod } from '../support/quiet.js';

let env: TestEnv | undefined;
let dir: string | undefined;
afterEach(async () => {
  await env?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
  env = dir = undefined;
});

/** A migrated schema of its own and a config file for it, with times shown in Shanghai. */
async function setup(): Promise<{ world: TestEnv; cli: (...args: string[]) => ReturnType<typeof runCli> }> {
  const world = await createTestEnv();
  env = world;
  await migrate(world.db, world.schema);
  dir = mkdtempSync(join(tmpdir(), 'vigil-incidents-cli-'));
  const config = join(dir, 'vigil.yaml');
  writeFileSync(
    config,
    `database:\n  url: ${DATABASE_URL}\n  schema: ${world.schema}\nredis:\n  url: ${REDIS_URL}\n  prefix: ${world.prefix}\noncall:\n  timeZone: Asia/Shanghai\n`,
  );
  return {
    world,
    cli: (...args) => runCli(['incidents', ...args, '--config', config], { env: { USER: 'dana' } }),
  };
}

describe('vigil incidents', () => {
  it('acknowledges once with who and why, and show prints the audit trail in the configured time zone', async () => {
    const { world, cli } = await setup();
    const id = await insertIncident(world, { title: 'HELIX API down' });
    await insertDelivery(world, id, { seq: 1, kind: 'opened', channel: 'slack', state: 'sent' });
    await insertDelivery(world, id, {
      seq: 1,
      kind: 'opened',
      channel: 'email',
      target: 'dba-list',
      state: 'abandoned',
      error: '550 mailbox unavailable',
    });

    const ack = await cli('ack', id, '--by', 'carol', '--note', 'on it');
    expect([ack.code, ack.stderr]).toEqual([0, '']);
    expect(ack.stdout).toMatch(new RegExp(`#${id}`));
    const again = await cli('ack', `#${id}`);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already acknowledged/);
    await quietPeriod();
    expect((await auditRows(world, id)).filter((r) => r.to_state === 'acknowledged')).toEqual([
      expect.objectContaining({ actor: 'carol (cli)', note: 'on it' }),
    ]);

    const show = await cli('show', id);
    expect([show.code, show.stderr]).toEqual([0, '']);
    expect(show.stdout).toMatch(new RegExp(`^#${id} HELIX API down`));
    expect(show.stdout).toMatch(/ opened +firing +by test-agent\n/);
    expect(show.stdout).toMatch(/\n +slack: sent \d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT\+8\n/);
    expect(show.stdout).toMatch(/ +email → dba-list: abandoned after 3 tries; 550 mailbox unavailable\n/);
    expect(show.stdout).toMatch(
      /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT\+8 +acknowledged +firing → acknowledged +by carol \(cli\) — on it/,
    );

    const json = await cli('show', id, '--json');
    const timeline = JSON.parse(json.stdout) as {
      transitions: { actor: string }[];
      deliveries: { channel: string; target: string; state: string; lastError: string | null }[];
    };
    expect(timeline.transitions.map((t) => t.actor)).toEqual(['test-agent', 'carol (cli)']);
    expect(timeline.deliveries).toContainEqual(
      expect.objectContaining({
        channel: 'email',
        target: 'dba-list',
        state: 'abandoned',
        lastError: '550 mailbox unavailable',
      }),
    );

    const list = await cli('list');
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(
      /^ID +STATE +SEVERITY +RULE +SINCE +DURATION +ACKED BY +TITLE$/,
    );
    expect(list.stdout).toMatch(
      new RegExp(`#${id} +acknowledged +critical +api-health .* carol \\(cli\\) +HELIX API down`),
    );
  }, 90_000);

  it('resolves with $USER as the actor; bad input exits 2, nothing to do exits 1', async () => {
    const { world, cli } = await setup();
    const id = await insertIncident(world);
    const resolved = await cli('resolve', id, '--json');
    expect(resolved.code).toBe(0);
    expect(JSON.parse(resolved.stdout)).toMatchObject({ changed: true, incident: { state: 'resolved' } });
    expect(await stateOf(world, id)).toBe('resolved');
    expect((await auditRows(world, id)).at(-1)).toMatchObject({ to_state: 'resolved', actor: 'dana (cli)' });

    const open = await cli('list', '--json');
    expect(JSON.parse(open.stdout)).toEqual([]);
    const all = await cli('list', '--state', 'all', '--json');
    expect((JSON.parse(all.stdout) as { id: string }[]).map((i) => i.id)).toEqual([id]);

    const bad = await cli('show', 'twelve');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"twelve" is not an incident number/);
    const badState = await cli('list', '--state', 'sleeping');
    expect(badState.code).toBe(2);
    expect(badState.stderr).toMatch(/--state must be one of open, firing, acknowledged, resolved, all/);
    const missing = await cli('unack', '987654');
    expect(missing.code).toBe(1);
    expect(missing.stderr).not.toMatch(/at \S+:\d+/);
  }, 90_000);
});
