import { afterEach, describe, expect, it } from 'vitest';
import { FlappingJudge, type FlappingConfig } from '../../src/incidents/flapping.js';
import { FlappingRelease } from '../../src/incidents/flapping-release.js';
import type { Pool } from '../../src/db/pool.js';
import { ago, holdsDb, type HoldsDb } from '../support/holds-db.js';
import { quietPeriod } from '../support/quiet.js';

let db: HoldsDb | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

const fp = 'api-health{service=helix-api}';
const cfg: FlappingConfig = { changes: 4, window: 60_000, stableFor: 1000 };

/** Two opened-and-resolved incidents of the series: four changes within the last minute. */
async function history(d: HoldsDb): Promise<void> {
  await d.insert({
    ruleId: 'api-health',
    fingerprint: fp,
    state: 'resolved',
    startedAt: ago(40_000),
    resolvedAt: ago(35_000),
  });
  await d.insert({
    ruleId: 'api-health',
    fingerprint: fp,
    state: 'resolved',
    startedAt: ago(30_000),
    resolvedAt: ago(25_000),
  });
}

const opening = (d: HoldsDb, startedAt: Date) => ({
  rule: d.rule('api-health'),
  fingerprint: fp,
  labels: { service: 'helix-api' },
  startedAt,
});

describe('flapping on real PostgreSQL', () => {
  it('holds the opening that makes more than `changes` changes with one notice, later ones silently', async () => {
    db = await holdsDb();
    await db.insert({
      ruleId: 'api-health',
      fingerprint: fp,
      state: 'resolved',
      startedAt: ago(30_000),
      resolvedAt: ago(25_000),
    });
    const a = new FlappingJudge(db.pool, cfg);
    // Three changes with this one: not flapping.
    expect(await a.judge([opening(db, ago(20_000))])).toEqual([undefined]);
    await db.insert({
      ruleId: 'api-health',
      fingerprint: fp,
      state: 'resolved',
      startedAt: ago(20_000),
      resolvedAt: ago(15_000),
    });

    // Agents racing on the same opening agree that it is the lead (and so does a retry of it): only
    // one of them can open its incident, so one notice goes out.
    const b = new FlappingJudge(db.other, cfg);
    const at = ago(10_000);
    const [mine, theirs] = await Promise.all([a.judge([opening(db, at)]), b.judge([opening(db, at)])]);
    const lead = {
      held: 'flapping',
      heldBy: fp,
      note: 'flapping: changed state 5 times in 1m',
      notify: 'flapping',
    };
    expect([...mine, ...theirs]).toEqual([lead, lead]);
    expect(await a.judge([opening(db, at)])).toEqual([lead]);
    await db.insert({
      ruleId: 'api-health',
      fingerprint: fp,
      state: 'resolved',
      startedAt: at,
      resolvedAt: ago(5000),
    });

    const later = new Date();
    expect(await a.judge([opening(db, later)])).toEqual([
      {
        held: 'flapping',
        heldBy: fp,
        note: 'flapping: changed state 7 times in 1m; held until stable for 1s',
      },
    ]);
    const { rows } = await db.pool.query(
      `SELECT since, last_change FROM vigil_flapping WHERE fingerprint = $1`,
      [fp],
    );
    expect(rows).toEqual([{ since: at, last_change: later }]);
  });

  it('is off with `changes: 0`', async () => {
    db = await holdsDb();
    await history(db);
    expect(await new FlappingJudge(db.pool, { ...cfg, changes: 0 }).judge([opening(db, new Date())])).toEqual(
      [undefined],
    );
  });

  it('ends an episode once stable: one "stable" notice to those told, the series counts afresh', async () => {
    db = await holdsDb();
    await history(db);
    const judge = new FlappingJudge(db.pool, cfg);
    const since = ago(20_000);
    expect((await judge.judge([opening(db, since)]))[0]?.notify).toBe('flapping');
    // What the open statement does with that verdict: the lead held, its notice owed to its targets.
    const lead = await db.insert({
      ruleId: 'api-health',
      fingerprint: fp,
      startedAt: since,
      held: 'flapping',
      heldBy: fp,
    });
    await db.pool.query(
      `INSERT INTO vigil_deliveries (incident_id, channel, target, seq, kind, state)
       VALUES ($1, 'slack', 'slack', 1, 'flapping', 'sent'), ($1, 'email', 'ops', 1, 'flapping', 'sent')`,
      [lead],
    );
    await db.pool.query(`UPDATE vigil_incidents SET state = 'resolved', resolved_at = $2 WHERE id = $1`, [
      lead,
      ago(15_000),
    ]);
    const latest = await db.insert({
      ruleId: 'api-health',
      fingerprint: fp,
      startedAt: ago(10_000),
      held: 'flapping',
      heldBy: fp,
    });

    const release = (pool: Pool, agentId: string, stableForMs: number) =>
      new FlappingRelease({ pool, agentId, stableForMs, metrics: db!.metrics, log: db!.log });
    // Its last change (the latest opening, 10 s ago) is not a minute old: still flapping.
    expect(await release(db.pool, 'agent-a', 60_000).tick()).toEqual([]);

    const a = release(db.pool, 'agent-a', cfg.stableFor);
    const b = release(db.other, 'agent-b', cfg.stableFor);
    const racing = await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
    await quietPeriod(300);
    await Promise.all([a.tick(), b.tick()]);

    const note = `stable for 1s after flapping (notice on #${lead}): still firing`;
    expect(racing.flat()).toEqual([{ id: latest, ruleId: 'api-health', note }]);
    const { rows: owed } = await db.pool.query(
      `SELECT incident_id, channel, target, seq, note FROM vigil_deliveries WHERE kind = 'stable' ORDER BY channel`,
    );
    expect(owed).toEqual([
      { incident_id: latest, channel: 'email', target: 'ops', seq: 2, note },
      { incident_id: latest, channel: 'slack', target: 'slack', seq: 2, note },
    ]);
    const { rows: inc } = await db.pool.query(
      `SELECT held, escalate_at IS NOT NULL AS escalates FROM vigil_incidents WHERE id = $1`,
      [latest],
    );
    expect(inc).toEqual([{ held: null, escalates: true }]);
    expect((await db.pool.query('SELECT * FROM vigil_flapping')).rows).toEqual([]);

    // The next change is the first since the "stable" notice, not the eighth within the window.
    await db.pool.query(`UPDATE vigil_incidents SET state = 'resolved', resolved_at = now() WHERE id = $1`, [
      latest,
    ]);
    expect(await judge.judge([opening(db, new Date(Date.now() + 1))])).toEqual([undefined]);
  });
});
