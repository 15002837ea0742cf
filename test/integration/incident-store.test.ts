import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { Escalations } from '../../src/incidents/escalation.js';
import { Transitions } from '../../src/incidents/transitions.js';
import { createLogger } from '../../src/log.js';
import { loadRules } from '../../src/rules/loader.js';
import { ThresholdStore } from '../../src/rules/thresholds.js';
import { createTestEnv, DATABASE_URL, type TestEnv } from '../support/env.js';

let env: TestEnv | undefined;
const pools: Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end()));
  await env?.cleanup();
  env = undefined;
});

async function store() {
  env = await createTestEnv();
  const pool = createPool(
    { url: DATABASE_URL, schema: env.schema, poolSize: 2 },
    `vigil test-${env.id}-store`,
  );
  pools.push(pool);
  await migrate(pool, env.schema);
  const rule = loadRules('rules', { HELIX_API_URL: env.helix.url }).rules.find((r) => r.id === 'api-health')!;
  return {
    pool,
    incidents: new IncidentStore(pool),
    transitions: new Transitions(pool),
    escalations: new Escalations(pool, () => ({}), channelOf),
    rule,
  };
}

const channelOf = (t: string) => (t === 'slack' || t === 'email' ? t : undefined);
const plan = { targets: ['slack', 'email'], policy: undefined };
const lease = (id: string) => ({ id, forMs: 60_000 });

describe('Transitions on real PostgreSQL', () => {
  it('escalates an incident once at its ack SLA, however many agents sweep at once', async () => {
    const { transitions, escalations, incidents, rule } = await store();
    const opened = await transitions.open(
      [
        {
          rule: { ...rule, ackSla: 50 },
          fingerprint: 'api-health{}',
          labels: {},
          value: 3,
          summary: '3 consecutive failures',
          startedAt: new Date(Date.now() - 1000),
          plan,
        },
      ],
      'test',
      channelOf,
      lease('l1'),
      { threshold: 0, windowMs: 60_000 },
    );
    const id = opened.incidents[0]!.id;
    const sweeps = await Promise.all(
      ['agent-a', 'agent-b', 'agent-c'].map((a, k) => escalations.escalateDue(a, lease(`e${k}`))),
    );
    expect(sweeps.flatMap((s) => s.incidents.map((i) => i.id))).toEqual([id]);
    expect((await escalations.escalateDue('agent-d', lease('e9'))).incidents).toEqual([]);
    expect((await incidents.get(id))?.seq).toBe(2);
    const { rows } = await env!.db.query(
      `SELECT kind FROM ${env!.schema}.vigil_incident_transitions ORDER BY seq`,
    );
    expect(rows).toEqual([{ kind: 'opened' }, { kind: 'escalated' }]);
    const owed = await env!.db.query(
      `SELECT seq, channel, kind FROM ${env!.schema}.vigil_deliveries WHERE state = 'owed' ORDER BY seq, channel`,
    );
    expect(owed.rows).toEqual([
      { seq: 1, channel: 'email', kind: 'opened' },
      { seq: 1, channel: 'slack', kind: 'opened' },
      { seq: 2, channel: 'email', kind: 'escalated' },
      { seq: 2, channel: 'slack', kind: 'escalated' },
    ]);
  });

  it('keeps an ack SLA of 30 days (beyond a 32-bit number of milliseconds)', async () => {
    const { transitions, incidents, rule } = await store();
    const { incidents: opened } = await transitions.open(
      [
        {
          rule: { ...rule, ackSla: 30 * 86_400_000 },
          fingerprint: 'api-health{}',
          labels: {},
          value: 3,
          summary: '',
          startedAt: new Date(),
          plan,
        },
      ],
      'test',
      channelOf,
      lease('l1'),
      { threshold: 0, windowMs: 60_000 },
    );
    expect(opened[0]!.ackSlaMs).toBe(2_592_000_000);
    expect((await incidents.get(opened[0]!.id))?.ackSlaMs).toBe(2_592_000_000);
  });
});

describe('ThresholdStore when PostgreSQL is away', () => {
  it('keeps evaluating with the numbers last seen and says why', async () => {
    const lines: string[] = [];
    const log = createLogger({
      level: 'warn',
      destination: new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) }),
    });
    const pool = createPool({
      url: 'postgres://postgres@127.0.0.1:1/postgres',
      schema: 'public',
      poolSize: 1,
    });
    pools.push(pool);
    const thresholds = new ThresholdStore(pool, [], { log });
    await expect(thresholds.snapshot()).resolves.toEqual(new Map());
    expect(lines.join('')).toContain('thresholds table unreachable');
  });
});
