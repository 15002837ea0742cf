import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { captureLogs, type LogCapture } from '../support/log-capture.js';
import { quietPeriod, until } from '../support/quiet.js';

let env: TestEnv | undefined;
let dir: string | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A rule on manual events named `<id>-check`, firing after `count` failures in a row. */
const ruleYaml = (id: string, count: number | string) =>
  [
    `id: ${id}`,
    `title: ${id} keeps failing`,
    'severity: high',
    'ackSla: 15m',
    'match:',
    '  source: manual',
    `  name: ${id}-check`,
    'condition:',
    '  kind: consecutive',
    `  count: ${count}`,
    '  resolveAfter: 1',
    'notify: [email]',
    '',
  ].join('\n');

interface World {
  world: TestEnv;
  agent: Agent;
  logs: LogCapture;
  write: (file: string, text: string) => void;
  fail: (rule: string) => Promise<void>;
  incidents: () => Promise<Array<{ rule_id: string; value: number }>>;
  /** The next log record from now on with this message (and what `more` asks of it). */
  logged: (msg: string, more?: (r: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>;
}

let seq = 0;
async function runningAgent(
  files: Record<string, string>,
  vars: (world: TestEnv) => Record<string, string> = () => ({}),
): Promise<World> {
  const world = await createTestEnv();
  env = world;
  const folder = mkdtempSync(join(tmpdir(), 'vigil-reload-'));
  dir = folder;
  // Written aside and renamed in, as editors and ConfigMap updates do: no reload sees half a file.
  const write = (file: string, text: string) => {
    writeFileSync(join(folder, `.${file}.tmp`), text);
    renameSync(join(folder, `.${file}.tmp`), join(folder, file));
  };
  for (const [file, text] of Object.entries(files)) write(file, text);
  const logs = captureLogs('info');
  const agent = world.agent(world.config({ slack: undefined, rules: { dir: folder, vars: vars(world) } }), {
    log: logs.log,
    watchRules: true,
  });
  await agent.start();
  return {
    world,
    agent,
    logs,
    write,
    fail: (rule) =>
      agent.ingest({
        id: `f-${++seq}`,
        source: 'manual',
        name: `${rule}-check`,
        at: new Date().toISOString(),
        host: 'test',
        labels: {},
        ok: false,
      }),
    incidents: async () =>
      (
        await world.db.query<{ rule_id: string; value: number }>(
          `SELECT rule_id, value FROM ${world.schema}.vigil_incidents ORDER BY id`,
        )
      ).rows,
    logged: (msg, more = () => true) => {
      const since = Date.now();
      return logs.waitFor((r) => r.msg === msg && (r.time as number) >= since && more(r));
    },
  };
}

const reloaded = 'rules reloaded';

describe('hot reload of the rule files', () => {
  it("a rule's new count applies to the next events, without a restart", async () => {
    const w = await runningAgent({ 'flaky.yaml': ruleYaml('flaky', 5) });
    await w.fail('flaky');
    const done = w.logged(reloaded, (r) => (r.changed as string[]).includes('flaky'));
    w.write('flaky.yaml', ruleYaml('flaky', 2));
    const record = await done;
    expect(record).toMatchObject({ added: [], removed: [], changed: ['flaky'] });
    await w.fail('flaky');
    await until('the incident opens at the new count', async () => (await w.incidents()).length > 0);
    expect(await w.incidents()).toEqual([{ rule_id: 'flaky', value: 2 }]);
    expect(await w.agent.metrics.render()).toMatch(/^vigil_rules_reload_total\{result="ok"\} [1-9]\d*$/m);
  });

  it('a broken file keeps the last good rules running and says where, in the log and /healthz, until it is fixed', async () => {
    const w = await runningAgent({ 'flaky.yaml': ruleYaml('flaky', 2) });
    const file = join(dir as string, 'flaky.yaml');
    const refused = w.logged('rules not reloaded: the last good rules keep running');
    w.write('flaky.yaml', ruleYaml('flaky', 'two'));
    const record = await refused;
    // Line 10 of the file holds `count: two`.
    expect((record.problems as string[]).join('\n')).toContain(`${file}:10:`);
    expect(record.level).toBe(50);

    const health = await fetch(`${w.agent.httpUrl}/healthz`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as { problems: Record<string, string> };
    expect(body.problems.rules).toContain(`${file}:10:`);
    expect(await w.agent.metrics.render()).toMatch(/^vigil_rules_reload_total\{result="failed"\} [1-9]\d*$/m);

    // The old rule (count 2) still judges.
    await w.fail('flaky');
    await w.fail('flaky');
    await until('the old rule fires', async () => (await w.incidents()).length > 0);
    expect(await w.incidents()).toEqual([{ rule_id: 'flaky', value: 2 }]);

    const recovered = new Promise<void>((resolve) =>
      w.agent.health.on('change', (part, problem) => {
        if (part === 'rules' && problem === undefined) resolve();
      }),
    );
    w.write('flaky.yaml', ruleYaml('flaky', 3));
    await recovered;
    expect(w.agent.health.problems()).toEqual({});
    expect(w.agent.rules.rules[0]?.condition).toMatchObject({ count: 3 });
  });

  it('a new rule file fires; a removed rule no longer does, and its open incident is left open and logged', async () => {
    const w = await runningAgent({
      'pair.yaml': `${ruleYaml('flaky', 1)}---\n${ruleYaml('gone', 1)}`,
      'steady.yaml': ruleYaml('steady', 1),
    });
    await w.fail('flaky');
    await until('flaky fires', async () => (await w.incidents()).length === 1);

    const added = w.logged(reloaded, (r) => (r.added as string[]).includes('fresh'));
    w.write('fresh.yaml', ruleYaml('fresh', 1));
    await added;
    await w.fail('fresh');
    await until('the new rule fires', async () => (await w.incidents()).some((i) => i.rule_id === 'fresh'));

    const removed = w.logged(reloaded, (r) => (r.removed as string[]).length === 2);
    const leftOpen = w.logged(
      'removed rules have open incidents: left open, no longer evaluated, until someone resolves them',
    );
    unlinkSync(join(dir as string, 'pair.yaml'));
    expect(await removed).toMatchObject({ removed: ['flaky', 'gone'] });
    expect(await leftOpen).toMatchObject({ rules: ['flaky'] });

    // A failure of each: the rule still loaded fires, the removed one gives nothing.
    await w.fail('gone');
    await w.fail('steady');
    await until('steady fires', async () => (await w.incidents()).some((i) => i.rule_id === 'steady'));
    await quietPeriod();
    expect((await w.incidents()).map((i) => i.rule_id).sort()).toEqual(['flaky', 'fresh', 'steady']);
  });

  it('a probe added by a reload is scheduled for the cluster and its rule fires', async () => {
    const w = await runningAgent({ 'flaky.yaml': ruleYaml('flaky', 1) }, (world) => ({
      HELIX_API_URL: world.helix.url,
    }));
    w.world.helix.setHealthy(false);
    const added = w.logged(reloaded, (r) => (r.added as string[]).includes('api-down'));
    w.write(
      'api.yaml',
      [
        'id: api-down',
        'title: API down',
        'severity: critical',
        'ackSla: 5m',
        'probe:',
        '  kind: http',
        '  name: reload-api',
        '  url: ${HELIX_API_URL}/api/v1/health',
        '  every: 200ms',
        '  timeout: 100ms',
        '  expectStatus: [200]',
        '  expectJson: { status: healthy }',
        'condition: { kind: consecutive, count: 1, resolveAfter: 1 }',
        'notify: [email]',
        '',
      ].join('\n'),
    );
    await added;
    await until('the new probe fires its rule', async () =>
      (await w.incidents()).some((i) => i.rule_id === 'api-down'),
    );
  });
});
