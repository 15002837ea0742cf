import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { VigilConfigInput } from '../../src/config/schema.js';
import type { OpeningIncident } from '../../src/incidents/holds.js';
import { SilenceJudge } from '../../src/incidents/silence-judge.js';
import { SilenceRelease } from '../../src/incidents/silence-release.js';
import { parseMatcher, Silences } from '../../src/incidents/silences.js';
import { createLogger } from '../../src/log.js';
import { configuredChannels, TargetBook } from '../../src/notify/targets.js';
import { loadRules } from '../../src/rules/loader.js';
import { DATABASE_URL, REDIS_URL } from '../support/env.js';
import { silenceWorld, type SilenceWorld } from '../support/silence-world.js';

let world: SilenceWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

const hour = 3_600_000;
const inAnHour = () => new Date(Date.now() + hour);
const match = (...texts: string[]) => texts.map(parseMatcher);

async function setup() {
  world = await silenceWorld();
  return { w: world, silences: new Silences(world.pool) };
}

const config = (w: SilenceWorld, more: Partial<VigilConfigInput> = {}) =>
  loadConfig({
    env: {},
    object: {
      database: { url: DATABASE_URL, schema: w.schema },
      redis: { url: REDIS_URL },
      slack: { token: 'xoxb-test', channel: 'C0ALERTS' },
      email: { smtpUrl: 'smtp://127.0.0.1:1025', from: 'vigil@example.test', to: ['oncall@example.test'] },
      targets: { 'db-team': { slack: 'C0DB' }, 'pager-mail': { email: ['pager@example.test'] } },
      ...more,
    },
  });

const releaser = (w: SilenceWorld, more: Partial<VigilConfigInput> = {}, now?: () => Date) => {
  const c = config(w, more);
  return new SilenceRelease({
    pool: w.pool,
    maintenance: { windows: c.maintenance, timeZone: c.oncall.timeZone, ...(now ? { now } : {}) },
    targets: new TargetBook(configuredChannels(c), c.targets),
    agentId: 'agent-1',
    log: createLogger({ level: 'silent' }),
  });
};

const incidentRow = async (w: SilenceWorld, id: string) =>
  (
    await w.pool.query<{
      held: string | null;
      held_by: string | null;
      seq: number;
      escalate_at: Date | null;
    }>('SELECT held, held_by, seq, escalate_at FROM vigil_incidents WHERE id = $1', [id])
  ).rows[0];
const audit = async (w: SilenceWorld, id: string) =>
  (
    await w.pool.query(
      `SELECT seq, from_state, to_state, kind, actor, note FROM vigil_incident_transitions
       WHERE incident_id = $1 ORDER BY seq`,
      [id],
    )
  ).rows;
const owed = async (w: SilenceWorld, id: string) =>
  (
    await w.pool.query(
      `SELECT channel, target, seq, kind FROM vigil_deliveries
       WHERE incident_id = $1 AND state = 'owed' AND lease_id IS NULL ORDER BY channel, target`,
      [id],
    )
  ).rows;

describe('the silences hold judge', () => {
  it('holds openings an active silence or an open maintenance window matches, each opening its own verdict', async () => {
    const { w, silences } = await setup();
    const rules = loadRules('rules', { HELIX_API_URL: 'http://127.0.0.1:1' }).rules;
    const rule = (id: string) => rules.find((r) => r.id === id)!;
    const opening = (id: string, labels: Record<string, string> = {}): OpeningIncident => ({
      rule: rule(id),
      fingerprint: id,
      labels,
      startedAt: new Date(),
    });
    const deploy = await silences.add({
      matchers: match('rule=api-health'),
      endsAt: inAnHour(),
      createdBy: 'alice',
      reason: 'deploy',
    });
    await silences.add({
      matchers: match('rule=~.+'),
      startsAt: inAnHour(),
      endsAt: new Date(Date.now() + 2 * hour),
      createdBy: 'carol',
      reason: 'later',
    });
    const gone = await silences.add({
      matchers: match('rule=~.+'),
      endsAt: inAnHour(),
      createdBy: 'dave',
      reason: 'over',
    });
    await silences.expire(gone.id, 'dave');
    const sunday3am = new Date('2024-05-05T03:00:00Z');
    const judge = new SilenceJudge(w.pool, {
      windows: config(w, {
        maintenance: [
          {
            name: 'backups',
            match: { category: 'data' },
            days: ['sun'],
            at: '02:00',
            for: '2h',
            reason: 'backups',
          },
        ],
      }).maintenance,
      timeZone: 'UTC',
      now: () => sunday3am,
    });
    expect(judge.name).toBe('silences');
    await expect(judge.judge([])).resolves.toEqual([]);
    const dataRule = rules.find((r) => r.category === 'data')!;
    const verdicts = await judge.judge([
      opening('api-health', { host: 'a' }),
      opening(rules.find((r) => r.category !== 'data' && r.id !== 'api-health')!.id),
      opening(dataRule.id),
    ]);
    expect(verdicts).toEqual([
      { held: 'silenced', heldBy: deploy.id, note: `silenced by #${deploy.id}: deploy (alice)` },
      undefined,
      {
        held: 'silenced',
        heldBy: 'maintenance:backups',
        note: 'silenced by maintenance window backups: backups',
      },
    ]);
  });
});

describe('adding a silence', () => {
  it('holds the open incidents it matches once, tells those told, and leaves the others alone', async () => {
    const { w, silences } = await setup();
    const told = await w.incident({
      labels: { host: 'db-2' },
      told: [
        ['slack', ''],
        ['email', 'pager-mail'],
      ],
    });
    const acked = await w.incident({ labels: { host: 'db-3' }, state: 'acknowledged' });
    const other = await w.incident({ ruleId: 'cpu-high', labels: { host: 'db-2' }, told: [['slack', '']] });
    const resolved = await w.incident({ labels: { host: 'db-2' }, state: 'resolved', told: [['slack', '']] });
    const inhibited = await w.incident({ labels: { host: 'db-2' }, held: 'inhibited', heldBy: '7' });
    // Two people silencing at once: each incident is held by one of them, once.
    const [a, b] = await Promise.all(
      ['alice', 'bob'].map((who) =>
        silences.add({
          matchers: match('rule=api-health', 'host=~db-.*'),
          endsAt: inAnHour(),
          createdBy: who,
          reason: 'deploy',
        }),
      ),
    );
    const row = (await incidentRow(w, told))!;
    expect(row).toMatchObject({ held: 'silenced', seq: 2, escalate_at: null });
    const by = row.held_by === a!.id ? 'alice' : 'bob';
    expect([a!.id, b!.id]).toContain(row.held_by);
    expect(await audit(w, told)).toEqual([
      {
        seq: 2,
        from_state: 'firing',
        to_state: 'firing',
        kind: 'silenced',
        actor: by,
        note: `silenced by #${row.held_by}: deploy (${by})`,
      },
    ]);
    expect(await owed(w, told)).toEqual([
      { channel: 'email', target: 'pager-mail', seq: 2, kind: 'silenced' },
      { channel: 'slack', target: '', seq: 2, kind: 'silenced' },
    ]);
    expect(await incidentRow(w, acked)).toMatchObject({ held: 'silenced', seq: 2 });
    expect(await owed(w, acked)).toEqual([]);
    for (const id of [other, resolved]) {
      expect(await incidentRow(w, id)).toMatchObject({ held: null, seq: 1 });
      expect(await audit(w, id)).toEqual([]);
    }
    expect(await incidentRow(w, inhibited)).toMatchObject({ held: 'inhibited', held_by: '7', seq: 1 });
    const holding = await silences.holding();
    expect([...holding.values()].reduce((x, y) => x + y, 0)).toBe(2);
  });

  it('a silence that starts later holds nothing until the tick after it starts', async () => {
    const { w, silences } = await setup();
    const id = await w.incident({ told: [['slack', 'slack']] });
    const later = await silences.add({
      matchers: match('rule=api-health'),
      startsAt: inAnHour(),
      endsAt: new Date(Date.now() + 2 * hour),
      createdBy: 'alice',
      reason: 'window',
    });
    expect(later.state).toBe('pending');
    expect(await incidentRow(w, id)).toMatchObject({ held: null });
    await w.pool.query(`UPDATE vigil_silences SET starts_at = now() - interval '1 second'`);
    expect(await releaser(w).run()).toEqual({ held: [id], released: [] });
    expect(await incidentRow(w, id)).toMatchObject({ held: 'silenced', held_by: later.id });
    expect(await owed(w, id)).toEqual([{ channel: 'slack', target: 'slack', seq: 2, kind: 'silenced' }]);
    expect(await releaser(w).run()).toEqual({ held: [], released: [] });
  });
});

describe('releasing', () => {
  it('on expiry: the next tick releases, restarts escalation and tells those told, once', async () => {
    const { w, silences } = await setup();
    const id = await w.incident({
      told: [
        ['slack', ''],
        ['email', ''],
      ],
      targets: ['db-team'],
    });
    const s = await silences.add({
      matchers: match('rule=api-health'),
      endsAt: inAnHour(),
      createdBy: 'alice',
      reason: 'deploy',
    });
    const expired = await silences.expireOnce(s.id, 'bob');
    expect(expired).toMatchObject({ changed: true, silence: { state: 'expired', expiredBy: 'bob' } });
    expect(await silences.expireOnce(s.id, 'carol')).toMatchObject({
      changed: false,
      silence: { expiredBy: 'bob' },
    });
    await expect(silences.expire('999', 'bob')).resolves.toBeUndefined();
    expect(await incidentRow(w, id)).toMatchObject({ held: 'silenced' });
    const ticks = await Promise.all([releaser(w).run(), releaser(w).run()]);
    expect(ticks.flatMap((t) => t.released)).toEqual([id]);
    const row = (await incidentRow(w, id))!;
    expect(row).toMatchObject({ held: null, held_by: null, seq: 3 });
    expect(row.escalate_at!.getTime()).toBeGreaterThan(Date.now() + 250_000);
    expect((await audit(w, id)).at(-1)).toEqual({
      seq: 3,
      from_state: 'firing',
      to_state: 'firing',
      kind: 'released',
      actor: 'agent-1',
      note: `silence #${s.id} expired by bob`,
    });
    expect((await owed(w, id)).filter((r) => r.kind === 'released')).toEqual([
      { channel: 'email', target: '', seq: 3, kind: 'released' },
      { channel: 'slack', target: '', seq: 3, kind: 'released' },
    ]);
  });

  it('held at opening and nobody told: released to its targets by name, on their channels', async () => {
    const { w, silences } = await setup();
    const s = await silences.add({
      matchers: match('rule=api-health'),
      endsAt: inAnHour(),
      createdBy: 'alice',
      reason: 'x',
    });
    const id = await w.incident({
      held: 'silenced',
      heldBy: s.id,
      targets: ['slack', 'db-team', 'pager-mail', 'gone'],
    });
    const resolved = await w.incident({ held: 'silenced', heldBy: s.id, state: 'resolved' });
    await silences.expire(s.id, 'alice');
    expect((await releaser(w).run()).released).toEqual([id]);
    expect(await owed(w, id)).toEqual([
      { channel: 'email', target: 'pager-mail', seq: 2, kind: 'released' },
      { channel: 'slack', target: 'db-team', seq: 2, kind: 'released' },
      { channel: 'slack', target: 'slack', seq: 2, kind: 'released' },
    ]);
    expect(await incidentRow(w, resolved)).toMatchObject({ held: 'silenced', seq: 1 });
    expect(await owed(w, resolved)).toEqual([]);
  });

  it('an incident another silence still matches stays held, credited to that one, with no notice', async () => {
    const { w, silences } = await setup();
    const id = await w.incident({ labels: { host: 'db-2' }, told: [['slack', '']] });
    const first = await silences.add({
      matchers: match('rule=api-health'),
      endsAt: inAnHour(),
      createdBy: 'alice',
      reason: 'a',
    });
    const second = await silences.add({
      matchers: match('host=db-2'),
      endsAt: inAnHour(),
      createdBy: 'bob',
      reason: 'b',
    });
    await silences.expire(first.id, 'alice');
    expect(await releaser(w).run()).toEqual({ held: [], released: [] });
    expect(await incidentRow(w, id)).toMatchObject({ held: 'silenced', held_by: second.id, seq: 2 });
    expect((await silences.list()).map((s) => s.id)).toEqual([second.id]);
    expect((await silences.list({ all: true })).map((s) => s.state)).toEqual(['active', 'expired']);
  });

  it('a maintenance window holds matching open incidents while open and releases them when it closes', async () => {
    const { w } = await setup();
    const id = await w.incident({ category: 'data', told: [['email', '']] });
    const untouched = await w.incident({ category: 'availability' });
    let now = new Date('2024-05-05T23:30:00Z'); // Sunday 23:30 UTC
    const maintenance = {
      maintenance: [
        {
          name: 'nightly',
          match: { category: 'data' },
          days: ['sun' as const],
          at: '23:00',
          for: '2h',
          reason: 'vacuum',
        },
      ],
    };
    const run = () => releaser(w, maintenance, () => now).run();
    expect(await run()).toEqual({ held: [id], released: [] });
    expect(await audit(w, id)).toMatchObject([
      {
        kind: 'silenced',
        actor: 'maintenance:nightly',
        note: 'silenced by maintenance window nightly: vacuum',
      },
    ]);
    now = new Date('2024-05-06T00:30:00Z');
    expect(await run()).toEqual({ held: [], released: [] });
    now = new Date('2024-05-06T01:00:00Z');
    expect(await run()).toEqual({ held: [], released: [id] });
    expect((await audit(w, id)).at(-1)).toMatchObject({
      kind: 'released',
      note: 'maintenance window nightly ended',
    });
    expect(await owed(w, id)).toEqual([
      { channel: 'email', target: '', seq: 2, kind: 'silenced' },
      { channel: 'email', target: '', seq: 3, kind: 'released' },
    ]);
    expect(await incidentRow(w, untouched)).toMatchObject({ held: null, seq: 1 });
  });
});

describe('Silences.add refuses', () => {
  it('no matchers, an unsafe regex, and an end before the start', async () => {
    const { silences } = await setup();
    const base = { endsAt: inAnHour(), createdBy: 'a', reason: 'r' };
    await expect(silences.add({ ...base, matchers: [] })).rejects.toThrow(
      'a silence needs at least one matcher',
    );
    await expect(
      silences.add({ ...base, matchers: [{ name: 'h', op: '=~', value: '(a*)*' }] }),
    ).rejects.toMatchObject({
      code: 'E_SILENCE_MATCHER',
    });
    await expect(
      silences.add({ ...base, matchers: match('rule=x'), endsAt: new Date(0) }),
    ).rejects.toMatchObject({
      code: 'E_SILENCE_WINDOW',
    });
    expect(await silences.list({ all: true })).toEqual([]);
  });
});
