import { afterEach, describe, expect, it } from 'vitest';
import type { Pool } from '../../src/db/pool.js';
import { InhibitionJudge } from '../../src/incidents/inhibit-judge.js';
import { InhibitionRelease } from '../../src/incidents/inhibit-release.js';
import { configuredChannels, TargetBook } from '../../src/notify/targets.js';
import type { VigilConfig } from '../../src/config/schema.js';
import { ago, holdsDb, type HoldsDb } from '../support/holds-db.js';
import { quietPeriod } from '../support/quiet.js';

let db: HoldsDb | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

const book = (c: VigilConfig) => new TargetBook(configuredChannels(c), c.targets);

describe('inhibition on real PostgreSQL', () => {
  it('holds an opening while an incident of its inhibiting rule is open with the same `equal` labels', async () => {
    db = await holdsDb();
    const source = await db.insert({ ruleId: 'database-unreachable', labels: { host: 'db-1' } });
    await db.insert({ ruleId: 'database-unreachable', labels: { host: 'db-9' }, state: 'resolved' });
    const byHost = db.rule('task-failure-rate', {
      inhibitedBy: [{ rule: 'database-unreachable', equal: ['host'] }],
    });
    const anyHost = db.rule('task-failures', { inhibitedBy: [{ rule: 'database-unreachable', equal: [] }] });
    const opening = (rule: typeof byHost, host: string) => ({
      rule,
      fingerprint: `${rule.id}{host=${host}}`,
      labels: { host },
      startedAt: new Date(),
    });

    const verdicts = await new InhibitionJudge(db.pool).judge([
      opening(byHost, 'db-1'),
      opening(byHost, 'db-2'),
      // Only a resolved incident of the source rule has this host: nothing holds it.
      opening(byHost, 'db-9'),
      opening(anyHost, 'db-2'),
      opening(db.rule('cpu-high'), 'db-1'),
    ]);

    const held = {
      held: 'inhibited',
      heldBy: source,
      note: `inhibited by #${source} (database-unreachable)`,
    };
    expect(verdicts).toEqual([held, undefined, undefined, held, undefined]);
  });

  it('releases a held incident once its source resolved: one audit row, one notice per target', async () => {
    db = await holdsDb();
    const config = db.env.config({
      targets: { 'db-team': { slack: 'C0DB' }, dba: { email: ['dba@example.test'] } },
    });
    const source = await db.insert({ ruleId: 'database-unreachable', startedAt: ago(60_000) });
    const dependant = await db.insert({
      ruleId: 'task-failure-rate',
      startedAt: ago(50_000),
      held: 'inhibited',
      heldBy: source,
      targets: ['slack', 'db-team', 'dba'],
      ackSlaMs: 600_000,
    });
    // Resolved while held: its resolution went to nobody, and nothing is owed now either.
    await db.insert({
      ruleId: 'task-failure-rate',
      fingerprint: 'task-failure-rate{table=old}',
      state: 'resolved',
      resolvedAt: new Date(),
      held: 'inhibited',
      heldBy: source,
    });
    const release = (pool: Pool, agentId: string) =>
      new InhibitionRelease({
        pool,
        agentId,
        targets: book(config),
        rules: () => [],
        metrics: db!.metrics,
        log: db!.log,
      });
    const a = release(db.pool, 'agent-a');
    const b = release(db.other, 'agent-b');
    expect(await a.tick()).toEqual([]);

    await db.pool.query(`UPDATE vigil_incidents SET state = 'resolved', resolved_at = now() WHERE id = $1`, [
      source,
    ]);
    const racing = await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
    await quietPeriod(300);
    await Promise.all([a.tick(), b.tick()]);

    expect(racing.flat().map((r) => r.id)).toEqual([dependant]);
    const { rows: audit } = await db.pool.query(
      `SELECT incident_id, seq, kind, actor, note FROM vigil_incident_transitions ORDER BY incident_id`,
    );
    expect(audit.map((r) => ({ ...r, actor: 'agent' }))).toEqual(
      [dependant].map((id) => ({
        incident_id: id,
        seq: 2,
        kind: 'released',
        actor: 'agent',
        note: `database-unreachable #${source} resolved`,
      })),
    );
    const { rows: owed } = await db.pool.query(
      `SELECT incident_id, channel, target, seq, kind, state, lease_id FROM vigil_deliveries
       ORDER BY incident_id, channel, target`,
    );
    const row = (id: string, channel: string, target: string) => ({
      incident_id: id,
      channel,
      target,
      seq: 2,
      kind: 'released',
      state: 'owed',
      lease_id: null,
    });
    expect(owed).toEqual([
      row(dependant, 'email', 'dba'),
      row(dependant, 'slack', 'db-team'),
      row(dependant, 'slack', 'slack'),
    ]);
    const { rows: after } = await db.pool.query(
      `SELECT held, held_by, seq, extract(epoch FROM escalate_at - now())::float8 AS due_in
       FROM vigil_incidents WHERE id = $1`,
      [dependant],
    );
    expect(after[0]).toMatchObject({ held: null, held_by: null, seq: 2 });
    // The ack SLA counts from the release, not from when it opened unseen.
    expect(after[0].due_in).toBeGreaterThan(500);
    expect(db.metrics.value('vigil_holds_released_total', { hold: 'inhibited' })).toBe(1);
  });

  it('keeps holding an incident another open incident still inhibits, and says so', async () => {
    db = await holdsDb();
    const dbA = await db.insert({
      ruleId: 'database-unreachable',
      labels: { host: 'h1', db: 'a' },
      startedAt: ago(60_000),
    });
    const dbB = await db.insert({ ruleId: 'database-unreachable', labels: { host: 'h1', db: 'b' } });
    await db.insert({ ruleId: 'database-unreachable', labels: { host: 'h2', db: 'c' } });
    const dependant = await db.insert({
      ruleId: 'task-failure-rate',
      labels: { host: 'h1' },
      held: 'inhibited',
      heldBy: dbA,
      targets: ['slack'],
    });
    const rule = db.rule('task-failure-rate', {
      inhibitedBy: [{ rule: 'database-unreachable', equal: ['host'] }],
    });
    const release = new InhibitionRelease({
      pool: db.pool,
      agentId: 'agent-a',
      targets: book(db.env.config()),
      rules: () => [rule],
      metrics: db.metrics,
      log: db.log,
    });
    const resolve = (id: string) =>
      db!.pool.query(`UPDATE vigil_incidents SET state = 'resolved', resolved_at = now() WHERE id = $1`, [
        id,
      ]);

    await resolve(dbA);
    expect(await release.tick()).toEqual([]);
    const { rows } = await db.pool.query(
      `SELECT i.held, i.held_by, t.kind, t.note FROM vigil_incidents i
       JOIN vigil_incident_transitions t ON t.incident_id = i.id AND t.seq = i.seq WHERE i.id = $1`,
      [dependant],
    );
    expect(rows).toEqual([
      {
        held: 'inhibited',
        held_by: dbB,
        kind: 'inhibited',
        note: `database-unreachable #${dbA} resolved; still inhibited by #${dbB} (database-unreachable)`,
      },
    ]);
    expect((await db.pool.query('SELECT 1 FROM vigil_deliveries')).rows).toEqual([]);

    await resolve(dbB);
    expect(await release.tick()).toEqual([
      { id: dependant, ruleId: 'task-failure-rate', note: `database-unreachable #${dbB} resolved` },
    ]);
  });

  it('releases an incident whose inhibiting incident no longer exists', async () => {
    db = await holdsDb();
    const id = await db.insert({ ruleId: 'task-failure-rate', held: 'inhibited', heldBy: '999999' });
    const released = await new InhibitionRelease({
      pool: db.pool,
      agentId: 'agent-a',
      targets: book(db.env.config()),
      rules: () => [],
      metrics: db.metrics,
      log: db.log,
    }).tick();
    expect(released).toEqual([
      { id, ruleId: 'task-failure-rate', note: 'inhibiting incident #999999 is gone' },
    ]);
  });
});
