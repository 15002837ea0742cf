import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { quietPeriod, until } from '../support/quiet.js';
import { replies, runsOf, stepsOf } from '../support/remediation-world.js';
import {
  apiPids,
  envBytes,
  health,
  incidents,
  killHard,
  portThief,
  restartWorld,
  startedPids,
  tsOf,
  type RestartWorld,
} from '../support/restart-agent-world.js';
import { alive } from '../support/restart-service.js';

// Port ranges of this file's tests alone (restart-service's own tests use 28710–28739; the refusal
// tests 28820–28859).
const RESTART = { from: 28800, to: 28819 };
const APPROVAL = { from: 28860, to: 28879 };

// An outage takes two probe intervals of 2 s to open, and one more to resolve, on a machine that
// may be busy.
const TIMEOUT = 120_000;
const WAIT = 40_000;

let world: RestartWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const runSucceeded = async (w: RestartWorld) => (await runsOf(w.env))[0]?.state === 'succeeded';
const resolved = async (w: RestartWorld) => (await incidents(w.env))[0]?.state === 'resolved';

/** Whether something accepts connections on the port. */
const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1')
      .once('connect', () => resolve(true))
      .once('error', () => resolve(false));
    socket.once('connect', () => socket.destroy());
  });

describe('restart-service run by an agent on its api-health rule', () => {
  it(
    'brings the killed API back on a free port when another process holds its old one, verifies, tells the thread, once',
    async () => {
      world = await restartWorld({ range: RESTART });
      const w = world;
      const oldPort = w.api.port;
      expect(oldPort).toBe(RESTART.from);
      const thief = await portThief(w.procs, oldPort);
      await killHard(w.api.child.pid!);
      await thief.holding;

      await until('the restart succeeded', () => runSucceeded(w), WAIT);
      const [run] = await runsOf(w.env);
      expect(run).toMatchObject({ target: 'helix-api', attempt: 1, verified: true });
      const steps = await stepsOf(w.env, run!.id);
      expect(steps.map((s) => `${s.name}:${s.outcome}`)).toEqual([
        'ssh-guard:ok',
        'find-pids:ok',
        'stop:skipped',
        'pick-port:ok',
        'update-env:ok',
        'start:ok',
        'verify-health:ok',
        'verify:ok',
      ]);
      const newPort = Number(/^API_PORT=(\d+) /m.exec((await envBytes(w)).toString())?.[1]);
      expect(newPort).not.toBe(oldPort);
      expect(newPort).toBeGreaterThanOrEqual(RESTART.from);
      expect(newPort).toBeLessThanOrEqual(RESTART.to);
      expect(steps.find((s) => s.name === 'pick-port')?.detail).toContain(
        `${oldPort} was held by pid ${thief.child.pid}`,
      );
      expect(steps.find((s) => s.name === 'verify')?.detail).toMatch(/^probe helix-api-health passed /);
      // Only API_PORT changed; every other byte of .env is as it was.
      expect(
        (await envBytes(w)).equals(
          Buffer.from(w.envText.replace(`API_PORT=${oldPort} `, `API_PORT=${newPort} `)),
        ),
      ).toBe(true);
      expect(await health(newPort)).toEqual({ status: 200, body: { status: 'healthy' } });
      const started = await startedPids(w);
      expect(started).toHaveLength(1);
      expect(await apiPids(w)).toEqual(started);

      const note = await w.env.slack.waitFor((c) =>
        replies(w.env, `restart-service on helix-api (run ${run!.id}) succeeded`).includes(c),
      );
      expect(String(note.args.text)).toContain(
        `on port ${newPort} (${oldPort} was held by pid ${thief.child.pid}`,
      );
      await until('the incident resolved', () => resolved(w), WAIT);

      await quietPeriod();
      expect(await runsOf(w.env)).toHaveLength(1);
      expect(await incidents(w.env)).toHaveLength(1);
      expect(replies(w.env, 'restart-service on helix-api')).toHaveLength(1);
      expect(await apiPids(w)).toEqual(started);
      // The process holding the old port is left alone.
      expect(thief.child.exitCode).toBeNull();
      expect(await alive(thief.child.pid)).toBe(true);
      expect(await accepts(oldPort)).toBe(true);
    },
    TIMEOUT,
  );

  it(
    'with approval: asks in the thread, restarts nothing until a signed Approve, then restarts and verifies',
    async () => {
      world = await restartWorld({ range: APPROVAL, entry: '    approval: true' });
      const w = world;
      const before = await envBytes(w);
      await killHard(w.api.child.pid!);

      await until(
        'waiting for approval',
        async () => (await runsOf(w.env))[0]?.state === 'awaiting-approval',
      );
      const ask = await w.env.slack.waitFor((c) => replies(w.env, 'waits for approval').includes(c));
      const [run] = await runsOf(w.env);
      expect(JSON.stringify(ask.args.blocks)).toContain(`"${run!.incident_id}:${run!.id}"`);
      expect(String(ask.args.text)).toContain(`restart-service on helix-api (run ${run!.id}) would: `);

      await quietPeriod();
      expect(await apiPids(w)).toEqual([]);
      expect((await envBytes(w)).equals(before)).toBe(true);
      expect(await stepsOf(w.env, run!.id)).toEqual([]);
      expect(await runsOf(w.env)).toMatchObject([{ state: 'awaiting-approval' }]);

      const press = await w.env.slack.press({
        channel: 'C0ALERTS',
        ts: tsOf(ask),
        actionId: 'vigil_approve',
        value: `${run!.incident_id}:${run!.id}`,
        user: { id: 'U0ALICE', name: 'alice' },
      });
      expect(press.status).toBe(200);
      await until('the approved restart succeeded', () => runSucceeded(w), WAIT);
      expect(await runsOf(w.env)).toMatchObject([
        { id: run!.id, verified: true, decided_by: 'alice (slack U0ALICE)' },
      ]);
      // Its port was free again, so it is kept and .env is untouched.
      expect((await envBytes(w)).equals(before)).toBe(true);
      expect(await health(APPROVAL.from)).toEqual({ status: 200, body: { status: 'healthy' } });
      const started = await startedPids(w);
      expect(started).toHaveLength(1);
      expect(await apiPids(w)).toEqual(started);
      await w.env.slack.waitFor((c) => replies(w.env, 'approved by alice').includes(c));
      await w.env.slack.waitFor((c) =>
        replies(w.env, `restart-service on helix-api (run ${run!.id}) succeeded`).includes(c),
      );
      await until('the incident resolved', () => resolved(w), WAIT);

      await quietPeriod();
      expect(await runsOf(w.env)).toHaveLength(1);
      expect(await apiPids(w)).toEqual(started);
    },
    TIMEOUT,
  );
});
