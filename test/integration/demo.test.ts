import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { isListening } from '../../src/remediate/service/free-port.js';
import { findByCmdline } from '../../src/sources/probes/procfs.js';
import { runCli } from '../support/cli.js';
import { DATABASE_URL, REDIS_URL } from '../support/env.js';
import { isRunning, killAll } from '../support/processes.js';

const demoApi = fileURLToPath(new URL('../../src/demo/helix-api.mjs', import.meta.url));

describe('vigil demo', () => {
  it('refuses a namespace that could be a real schema or key prefix, and exits at once', async () => {
    const r = await runCli(['demo', '--namespace', 'public']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--namespace public: must be a lower-case identifier containing "demo"');
  });

  it('shows a real alert and its resolution, in Slack and by email, and one remediation, then exits 0', async () => {
    const namespace = `vt_demo_${Date.now().toString(36)}`;
    let started: number[] = [];
    try {
      const r = await runCli(
        ['demo', '--cycles', '1', '--port', '0', '--namespace', namespace, '--api-ports', API_PORTS],
        { env: { DATABASE_URL, REDIS_URL } },
      );
      // The API processes the demo says it started: killed in `finally` should the demo leave any.
      started = [...r.stdout.matchAll(/\(pid (\d+)\)|, pid (\d+)$/gm)].map((m) => Number(m[1] ?? m[2]));
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.split('\n');
      const index = (re: RegExp) => lines.findIndex((l) => re.test(l));
      const broke = index(/cycle 1: HELIX API turns unhealthy/);
      const alerted = index(/Slack chat\.postMessage: .*HELIX API health check fails.*firing/);
      const mailed = index(/Email to oncall@helix\.local: \[Vigil\]\[CRITICAL\]/);
      const healed = index(/cycle 1: HELIX API is healthy again/);
      const resolved = index(/Slack chat\.update: .*resolved/);
      const resolvedMail = index(/Email to oncall@helix\.local: Re: \[Vigil\]\[RESOLVED\]/);
      expect([broke, alerted, mailed, healed, resolved, resolvedMail].every((i) => i >= 0)).toBe(true);
      expect(broke).toBeLessThan(alerted);
      expect(alerted).toBeLessThan(healed);
      expect(healed).toBeLessThan(resolved);
      // The tasks table's trigger → outbox → pg-outbox source → the task-failures rule.
      const tasksFailed = index(/cycle 1: three HELIX tasks fail in a row/);
      const tasksAlerted = index(/Slack chat\.postMessage: .*HELIX tasks keep failing.*firing/);
      const taskSucceeded = index(/cycle 1: a HELIX task succeeds/);
      const tasksResolved = index(/Slack chat\.update: .*HELIX tasks keep failing.*resolved/);
      expect([tasksFailed, tasksAlerted, taskSucceeded, tasksResolved].every((i) => i >= 0)).toBe(true);
      expect(tasksFailed).toBeLessThan(tasksAlerted);
      expect(tasksAlerted).toBeLessThan(taskSucceeded);
      expect(taskSucceeded).toBeLessThan(tasksResolved);
      await expectRemediation(r.stdout, namespace);
      expect(r.stdout).toContain('demo finished');
    } finally {
      const ours = await findByCmdline([process.execPath, demoApi]);
      killAll(ours.filter((pid) => started.includes(pid)));
      const { default: pg } = await import('pg');
      const db = new pg.Client({ connectionString: DATABASE_URL });
      await db.connect();
      await db.query(`DROP SCHEMA IF EXISTS ${namespace} CASCADE`);
      await db.end();
      const { Redis } = await import('ioredis');
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${namespace}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
  }, 60_000);
});

/** This file's own ports for the demo's HELIX API process (other tests' ranges are elsewhere). */
const API_PORTS = '28900-28919';

/**
 * The demo's remediation phase: the API process killed and its port held, its rule's restart-service
 * run moved it to a free port and verified it, the thread said so, and nothing is left running.
 */
async function expectRemediation(stdout: string, namespace: string): Promise<void> {
  const lines = stdout.split('\n');
  const index = (re: RegExp) => lines.findIndex((l) => re.test(l));
  const at = (re: RegExp) => re.exec(stdout) ?? expect.fail(`no line matching ${re} in:\n${stdout}`);
  const [, dir, firstPort, firstPid] = at(
    /HELIX API process (\S+): node helix-api\.mjs on port (\d+) .*pid (\d+)/,
  );
  const killed = index(/cycle 1: the HELIX API process \(pid \d+\) is killed with SIGKILL/);
  const alerted = index(/Slack chat\.postMessage: .*HELIX API process not answering.*firing/);
  const noted = index(
    /✅ restart-service on helix-api \(run \d+\) succeeded: .* on port \d+ \(\d+ was held by/,
  );
  const [, newPort, newPid] = at(
    /cycle 1: the HELIX API answers on port (\d+) \(pid (\d+)\); \.env has API_PORT=\1/,
  );
  const resolved = index(/Slack chat\.update: .*HELIX API process not answering.*resolved/);
  expect([killed, alerted, noted, resolved].every((i) => i >= 0)).toBe(true);
  expect(killed).toBeLessThan(alerted);
  expect(alerted).toBeLessThan(noted);
  expect(stdout).toContain(`port ${firstPort} is still held by the other process`);
  expect(Number(newPort)).not.toBe(Number(firstPort));
  expect(Number(newPort)).toBeGreaterThanOrEqual(28900);
  expect(Number(newPort)).toBeLessThanOrEqual(28919);
  for (const step of ['find-pids', 'pick-port', 'update-env', 'start', 'verify-health', 'verify'])
    expect(index(new RegExp(`✓ ${step}: `))).toBeGreaterThan(noted);

  const { default: pg } = await import('pg');
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  const { rows } = await db
    .query(`SELECT target, state, verified FROM ${namespace}.vigil_remediation_runs`)
    .finally(() => db.end());
  expect(rows).toEqual([{ target: 'helix-api', state: 'succeeded', verified: true }]);

  // The demo stopped the API it started, the one Vigil restarted (detached) and the port's holder.
  expect(await isRunning(Number(firstPid))).toBe(false);
  expect(await isRunning(Number(newPid))).toBe(false);
  expect(await findByCmdline([process.execPath, demoApi])).toEqual([]);
  expect(await isListening(Number(firstPort))).toBe(false);
  expect(await isListening(Number(newPort))).toBe(false);
  expect(existsSync(dir!)).toBe(false);
}
