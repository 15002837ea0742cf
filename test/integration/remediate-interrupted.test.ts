import { readFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_URL, REDIS_URL, createTestEnv, type TestEnv } from '../support/env.js';
import { spawnCli, waitForLine } from '../support/cli.js';
import { quietPeriod, until } from '../support/quiet.js';
import { remediationConfig, replies, rulesDir, runsOf } from '../support/remediation-world.js';

const program = join(import.meta.dirname, '../fixtures/remediate/program.mjs');
let env: TestEnv | undefined;
let cleanups: Array<() => void> = [];
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
  // Last in, first out: the recovery program is killed (its pidfile read) before its folder goes.
  cleanups.reverse().forEach((c) => c());
  cleanups = [];
});

const rule = (helixUrl: string) => `
id: api-health
title: HELIX API health check fails
severity: critical
ackSla: 1h
probe:
  kind: http
  name: helix-api-health
  url: ${helixUrl}/api/v1/health
  every: 200ms
  timeout: 100ms
  labels: { service: helix-api }
groupBy: [service]
condition: { kind: consecutive, count: 2 }
remediate:
  - target: recover
    cooldown: 0s
    budget: { runs: 1, within: 10m }
`;

describe('an agent that dies mid-run', () => {
  it('leaves the run recorded as interrupted, and the guards decide again rather than re-running it', async () => {
    env = await createTestEnv();
    const world = env;
    const dir = mkdtempSync(join(tmpdir(), 'vigil-interrupted-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const pidfile = join(dir, 'recover.pid');
    // The recovery program hangs: the agent is killed while it runs.
    cleanups.push(() => {
      if (!existsSync(pidfile)) return;
      for (const pid of readFileSync(pidfile, 'utf8').split(' ').map(Number)) {
        try {
          // Its own process group (run-command starts programs so): the group goes with it.
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
    const rules = rulesDir({ 'api-health.yaml': rule(world.helix.url) });
    cleanups.push(rules.remove);
    const targets = {
      recover: {
        action: 'run-command',
        program: process.execPath,
        args: [program, 'hang', pidfile],
        timeout: '5m',
      },
    };
    const yaml = JSON.stringify({
      agentId: `test-${world.id}-doomed`,
      database: { url: DATABASE_URL, schema: world.schema },
      redis: { url: REDIS_URL, prefix: world.prefix },
      http: { host: '127.0.0.1', port: 0 },
      slack: { token: 'xoxb-test', apiUrl: world.slack.url, channel: 'C0ALERTS', timeout: '2s' },
      rules: { dir: rules.dir },
      notify: { sweepEvery: '100ms' },
      ...remediationConfig(targets),
    });
    const configFile = join(dir, 'vigil.yaml');
    writeFileSync(configFile, yaml);
    const doomed = spawnCli(['start', '--config', configFile]);
    cleanups.push(() => doomed.kill('SIGKILL'));
    await waitForLine(doomed, /agent started/);
    world.helix.setHealthy(false);
    await until('the recovery program runs', async () => existsSync(pidfile), 20_000);
    // Its alert is out (the thread the notes go to): what this test kills is the run, not the alert.
    await world.slack.waitFor(
      (c) => c.method === 'chat.postMessage' && c.status === 200 && !c.args.thread_ts,
    );
    const [first] = await runsOf(world);
    expect(first!.state).toBe('running');
    doomed.kill('SIGKILL');
    await new Promise((resolve) => doomed.once('exit', resolve));

    // Another agent takes over: it finds the run's lease lapsed.
    const heir = world.agent(
      world.config({ rules: { dir: rules.dir, vars: {} }, ...remediationConfig(targets) }),
    );
    await heir.start();
    await until(
      'the run is recorded as interrupted',
      async () => (await runsOf(world))[0]?.state === 'interrupted',
    );
    expect((await runsOf(world))[0]!.outcome).toContain(
      `agent test-${world.id}-doomed stopped renewing its lease`,
    );
    // The guards decide again: a second attempt, refused by the budget (one run in 10 minutes), and a page.
    await until('the next attempt is judged', async () => (await runsOf(world))[1]?.state === 'refused');
    const [, second] = await runsOf(world);
    expect(second).toMatchObject({ attempt: 2, target: 'recover' });
    expect(second!.outcome).toBe('1 run-command runs on recover in 10m, giving up: a person must look');
    await world.slack.waitFor((c) => replies(world, 'stopped renewing its lease').includes(c));
    await world.slack.waitFor((c) => replies(world, 'giving up').includes(c));
    await until('escalated', async () => {
      const { rows } = await world.db.query(
        `SELECT 1 FROM ${world.schema}.vigil_incident_transitions WHERE incident_id = $1 AND kind = 'escalated'`,
        [first!.incident_id],
      );
      return rows.length === 1;
    });
    await quietPeriod();
    expect(await runsOf(world)).toHaveLength(2);
    // Started once: the program's pidfile was written by the first run only.
    const { rows } = await world.db.query(
      `SELECT count(*)::int AS n FROM ${world.schema}.vigil_remediation_runs WHERE started_at IS NOT NULL`,
    );
    expect(rows[0]!.n).toBe(1);
  }, 60_000);
});
