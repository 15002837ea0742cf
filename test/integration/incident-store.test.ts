import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { IncidentStore } from '../../src/incidents/store.js';
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
  const rule = loadRules('rules', { HELIX_API_URL: env.helix.url }).rules[0]!;
  return { pool, incidents: new IncidentStore(pool), rule };
}

describe('IncidentStore on real PostgreSQL', () => {
  it('escalates an incident once, however often the escalation job runs', async () => {
    const { incidents, rule } = await store();
    const { incident } = await incidents.open({
      rule,
      fingerprint: 'api-health{}',
      labels: {},
      value: 3,
      summary: '3 consecutive failures',
      startedAt: new Date(),
      actor: 'test',
    });
    const first = await incidents.escalate(incident.id, 'agent-a', 'ack SLA passed');
    const again = await incidents.escalate(incident.id, 'agent-b', 'ack SLA passed');
    expect(first?.seq).toBe(2);
    expect(again?.seq).toBe(2);
    expect((await incidents.get(incident.id))?.seq).toBe(2);
    const { rows } = await env!.db.query(
      `SELECT kind, actor FROM ${env!.schema}.vigil_incident_transitions ORDER BY seq`,
    );
    expect(rows).toEqual([
      { kind: 'opened', actor: 'test' },
      { kind: 'escalated', actor: 'agent-a' },
    ]);
  });

  it('keeps an ack SLA of 30 days (beyond a 32-bit number of milliseconds)', async () => {
    const { incidents, rule } = await store();
    const { incident } = await incidents.open({
      rule: { ...rule, ackSla: 30 * 86_400_000 },
      fingerprint: 'api-health{}',
      labels: {},
      value: 3,
      summary: '',
      startedAt: new Date(),
      actor: 'test',
    });
    expect(incident.ackSlaMs).toBe(2_592_000_000);
    expect((await incidents.get(incident.id))?.ackSlaMs).toBe(2_592_000_000);
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
    const thresholds = new ThresholdStore(pool, log);
    await expect(thresholds.snapshot()).resolves.toEqual(new Map());
    expect(lines.join('')).toContain('thresholds table unreachable');
  });
});
