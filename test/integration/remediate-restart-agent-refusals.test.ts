import { afterEach, describe, expect, it } from 'vitest';
import { isListening } from '../../src/remediate/service/free-port.js';
import { quietPeriod, until } from '../support/quiet.js';
import { replies, runsOf, stepsOf } from '../support/remediation-world.js';
import {
  apiPids,
  envBytes,
  incidents,
  killHard,
  restartWorld,
  startedPids,
  transitionKinds,
  type RestartWorld,
} from '../support/restart-agent-world.js';

// Port ranges of this file's tests alone (restart-service's own tests use 28710–28739; the
// restart and approval tests 28800–28819 and 28860–28879).
const SSH_GUARD = { from: 28820, to: 28839 };
const BUDGET = { from: 28840, to: 28859 };

// An outage takes two probe intervals of 2 s to open, and one more to resolve, on a machine that
// may be busy.
const TIMEOUT = 120_000;
const WAIT = 40_000;

let world: RestartWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/**
 * Escalated by the refusal: the rule's ack SLA is an hour, so only the runner asking for it can
 * explain an `escalated` transition, and it comes after the run's note.
 */
async function escalatedAfterNote(w: RestartWorld, incidentId: string): Promise<string[]> {
  await until(
    'the incident escalated',
    async () => (await transitionKinds(w.env, incidentId)).includes('escalated'),
    WAIT,
  );
  const kinds = await transitionKinds(w.env, incidentId);
  expect(kinds.indexOf('escalated')).toBeGreaterThan(kinds.indexOf('remediation'));
  // The page says why it came early: not "not acknowledged" (its ack SLA is an hour away).
  const page = await w.env.slack.waitFor(
    (c) => c.method === 'chat.postMessage' && String(c.args.text).includes('Escalated'),
    { timeoutMs: WAIT },
  );
  expect(String(page.args.text)).toContain('auto-remediation could not fix it');
  expect(String(page.args.text)).toContain('remediation needs a person: ');
  expect(String(page.args.text)).not.toContain('not acknowledged within');
  return kinds;
}

describe('restart-service refused in an agent', () => {
  it(
    'the SSH guard: nothing listens on the SSH port, so nothing is touched, the thread says why, and it escalates',
    async () => {
      world = await restartWorld({ range: SSH_GUARD, ssh: false });
      const w = world;
      const before = await envBytes(w);
      await killHard(w.api.child.pid!);

      await until('the run was refused', async () => (await runsOf(w.env))[0]?.state === 'refused', WAIT);
      const [run] = await runsOf(w.env);
      const why = `nothing listens on port ${w.sshPort} (SSH): nothing touched, a person must look (a host with no SSH server: set sshPort: false on the target)`;
      expect(await stepsOf(w.env, run!.id)).toEqual([{ name: 'ssh-guard', outcome: 'failed', detail: why }]);
      const note = await w.env.slack.waitFor((c) =>
        replies(w.env, `restart-service on helix-api (run ${run!.id}) refused`).includes(c),
      );
      expect(String(note.args.text)).toContain(`refused to restart helix-api: ${why}`);
      expect(await escalatedAfterNote(w, run!.incident_id)).toEqual(['opened', 'remediation', 'escalated']);

      await quietPeriod();
      expect((await envBytes(w)).equals(before)).toBe(true);
      expect(await apiPids(w)).toEqual([]);
      expect(await isListening(SSH_GUARD.from)).toBe(false);
      expect(await runsOf(w.env)).toHaveLength(1);
      expect(await incidents(w.env)).toMatchObject([{ state: 'firing' }]);
    },
    TIMEOUT,
  );

  it(
    'the budget: after 2 runs in 10m the third is refused, escalated and told, and nothing restarts',
    async () => {
      world = await restartWorld({ range: BUDGET, entry: '    budget: { runs: 2, within: 10m }' });
      const w = world;
      let victim = w.api.child.pid!;
      for (let n = 1; n <= 2; n++) {
        await killHard(victim, n > 1);
        await until(
          `restart ${n} succeeded`,
          async () => (await runsOf(w.env))[n - 1]?.state === 'succeeded',
          WAIT,
        );
        await until(
          `incident ${n} resolved`,
          async () => (await incidents(w.env))[n - 1]?.state === 'resolved',
          WAIT,
        );
        const started = await startedPids(w);
        expect(started).toHaveLength(n);
        expect(await apiPids(w)).toEqual([started[n - 1]]);
        victim = started[n - 1]!;
      }
      await killHard(victim, true);

      await until(
        'the third run was refused',
        async () => (await runsOf(w.env))[2]?.state === 'refused',
        WAIT,
      );
      const runs = await runsOf(w.env);
      expect(runs.map((r) => r.state)).toEqual(['succeeded', 'succeeded', 'refused']);
      expect(new Set(runs.map((r) => r.incident_id)).size).toBe(3);
      const third = runs[2]!;
      expect(await stepsOf(w.env, third.id)).toEqual([]);
      const note = await w.env.slack.waitFor((c) =>
        replies(w.env, `restart-service on helix-api (run ${third.id}) refused`).includes(c),
      );
      expect(String(note.args.text)).toContain(
        '2 restart-service runs on helix-api in 10m, giving up: a person must look',
      );
      await escalatedAfterNote(w, third.incident_id);

      await quietPeriod();
      expect(await runsOf(w.env)).toHaveLength(3);
      expect(await startedPids(w)).toHaveLength(2);
      expect(await apiPids(w)).toEqual([]);
      expect(await incidents(w.env)).toMatchObject([
        { state: 'resolved' },
        { state: 'resolved' },
        { state: 'firing' },
      ]);
    },
    TIMEOUT,
  );
});
