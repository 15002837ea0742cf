import { describe, expect, it } from 'vitest';
import type { Incident } from '../../src/contracts/incident.js';
import { judge, type GuardInput } from '../../src/remediate/guards.js';
import type { Run } from '../../src/remediate/runs.js';
import { ruleRemediationSchema } from '../../src/remediate/schema.js';

const now = new Date('2026-11-30T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);

const run = (over: Partial<Run> = {}): Run => ({
  id: '9',
  incidentId: '1',
  ruleId: 'api-health',
  entry: 0,
  attempt: 1,
  target: 'helix-api',
  action: 'restart-service',
  state: 'requested',
  dryRun: false,
  outcome: '',
  requestedAt: now,
  notBefore: null,
  approvalExpiresAt: null,
  decidedBy: null,
  startedAt: null,
  finishedAt: null,
  agent: null,
  verified: null,
  recurredAt: null,
  ...over,
});

/** A run of the target that started `startedMsAgo` and ended as `state`. */
const earlier = (id: string, state: Run['state'], startedMsAgo: number) =>
  run({ id, state, startedAt: ago(startedMsAgo), finishedAt: ago(startedMsAgo - 1000) });

const input = (
  over: Omit<Partial<GuardInput>, 'entry'> & { entry?: Record<string, unknown> } = {},
): GuardInput => ({
  run: run(),
  incident: { state: 'firing', held: null, acknowledgedBy: null } as Incident,
  disabled: undefined,
  recent: [],
  globalDryRun: false,
  now,
  ...over,
  entry: ruleRemediationSchema.parse({ target: 'helix-api', ...over.entry }),
});

describe('remediation guards', () => {
  it('skip an incident that resolved, is acknowledged or held, unless evenWhenHeld', () => {
    expect(judge(input({ incident: { state: 'resolved' } as Incident })).go).toBe('skip');
    const acked = { state: 'acknowledged', held: null, acknowledgedBy: 'alice (cli)' } as Incident;
    expect(judge(input({ incident: acked }))).toEqual({
      go: 'skip',
      why: 'acknowledged by alice (cli): left to them',
    });
    const silenced = { state: 'firing', held: 'silenced' } as Incident;
    expect(judge(input({ incident: silenced })).go).toBe('skip');
    expect(judge(input({ incident: silenced, entry: { evenWhenHeld: true } })).go).toBe('run');
  });

  it('run a run a person approved although they acknowledged the incident first', () => {
    const acked = { state: 'acknowledged', held: null, acknowledgedBy: 'alice (cli)' } as Incident;
    expect(
      judge(input({ incident: acked, run: run({ state: 'approved' }), entry: { approval: true } })).go,
    ).toBe('run');
  });

  it('spend the budget only on runs that acted: refused (nothing touched) ones do not count', () => {
    const entry = { budget: { runs: 2, within: '30m' }, cooldown: '0s' };
    const two = [earlier('1', 'succeeded', 60_000), earlier('2', 'failed', 120_000)];
    expect(judge(input({ entry, recent: two }))).toEqual({
      go: 'refuse',
      why: '2 restart-service runs on helix-api in 30m, giving up: a person must look',
      page: true,
    });
    const refusedOnes = [earlier('1', 'refused', 60_000), earlier('2', 'refused', 120_000)];
    expect(judge(input({ entry, recent: refusedOnes })).go).toBe('run');
    // Outside the window: spent no more.
    expect(judge(input({ entry, recent: [earlier('1', 'succeeded', 31 * 60_000), two[1]!] })).go).toBe('run');
  });

  it('cool down after a run that acted, not after one refused or cut short', () => {
    const entry = { cooldown: '5m' };
    const verdict = judge(input({ entry, recent: [earlier('1', 'succeeded', 61_000)] }));
    expect(verdict).toMatchObject({ go: 'wait', until: new Date(ago(60_000).getTime() + 300_000) });
    expect(judge(input({ entry, recent: [earlier('1', 'refused', 61_000)] })).go).toBe('run');
    expect(judge(input({ entry, recent: [earlier('1', 'interrupted', 61_000)] })).go).toBe('run');
  });

  it('a dry run shows the plan whatever the budget; approval asks with an expiry', () => {
    const spent = [earlier('1', 'succeeded', 60_000)];
    expect(
      judge(input({ entry: { dryRun: true, budget: { runs: 1, within: '1h' } }, recent: spent })).go,
    ).toBe('dry-run');
    expect(judge(input({ globalDryRun: true })).go).toBe('dry-run');
    expect(judge(input({ entry: { approval: { expiresAfter: '10m' } } }))).toEqual({
      go: 'ask',
      expiresAt: new Date(now.getTime() + 600_000),
    });
  });

  it('refuse a switched-off target without paging again', () => {
    const disabled = { since: ago(60_000), reason: '3 failed restart-service runs in a row' };
    expect(judge(input({ disabled }))).toMatchObject({ go: 'refuse', page: false });
  });
});
