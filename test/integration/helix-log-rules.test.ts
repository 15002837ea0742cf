import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startHelixLog, type HelixLog } from '../../src/demo/helix-log.js';
import { productionLogSource } from '../../src/demo/shipped-config.js';
import type { SlackCall } from '../../src/demo/slack-emulator.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { quietPeriod } from '../support/quiet.js';

let env: TestEnv | undefined;
let dir: string | undefined;
let helixLog: HelixLog | undefined;
afterEach(async () => {
  await helixLog?.close();
  await env?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
  env = dir = helixLog = undefined;
});

const burst = 'HELIX logs a burst of ERRORs';
const heartbeat = 'HELIX orchestrator heartbeat lost';
const about = (c: SlackCall, title: string) => c.status === 200 && String(c.args.text ?? '').includes(title);

it("the shipped ERROR-burst and heartbeat rules fire and resolve from HELIX's production.log, followed by vigil.yaml's log source", async () => {
  const world = (env = await createTestEnv());
  dir = await mkdtemp(join(tmpdir(), 'vigil-helix-log-'));
  // The rule files as shipped, alone: the other HELIX rules need HELIX's database and API.
  const rules = join(dir, 'rules');
  await mkdir(rules);
  for (const f of ['error-burst.yaml', 'orchestrator-heartbeat.yaml'])
    await copyFile(join('rules', f), join(rules, f));
  // The simulated orchestrator polls (and logs it) every 200 ms instead of 5 s.
  const log = (helixLog = await startHelixLog(join(dir, 'production.log'), { pollEvery: 200 }));
  const agent = world.agent(
    world.config({
      rules: { dir: rules, vars: {}, tickEvery: '100ms' },
      stateDir: join(dir, 'state'),
      sources: [{ ...productionLogSource(log.path), pollEvery: 50 }],
    }),
  );
  await agent.start();
  // The shipped numbers scaled down through the thresholds table, as an operator would tune them.
  await agent.thresholds.set('orchestrator-heartbeat', 'after', 2000, 'test', 'seconds, not minutes');
  await agent.thresholds.set('error-burst', 'count', 5, 'test', 'seconds, not minutes');
  await agent.thresholds.set('error-burst', 'window', 2000, 'test', 'seconds, not minutes');
  await agent.thresholds.set('error-burst', 'keepFiringFor', 0, 'test', 'seconds, not minutes');

  for (let i = 1; i <= 5; i++) await log.write('ERROR', 'helix.agent', `task 10903${i} failed`);
  const fired = await world.slack.waitFor((c) => c.method === 'chat.postMessage' && about(c, burst));
  expect(JSON.stringify(fired.args)).toContain('5 ERROR records in 2s (&gt;= 5)');
  // No more ERRORs: the window drains and the burst is over.
  await world.slack.waitFor((c) => c.method === 'chat.update' && about(c, burst), { timeoutMs: 20_000 });

  log.polling(false);
  const lost = await world.slack.waitFor((c) => c.method === 'chat.postMessage' && about(c, heartbeat), {
    timeoutMs: 20_000,
  });
  expect(JSON.stringify(lost.args)).toContain('no orchestrator heartbeat for');
  log.polling(true);
  await world.slack.waitFor((c) => c.method === 'chat.update' && about(c, heartbeat), { timeoutMs: 20_000 });

  // Exactly one incident each, both resolved, judged after a quiet period.
  await quietPeriod(1500);
  const posts = world.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 200);
  expect(
    posts.map((c) => String(c.args.text).includes(burst) || String(c.args.text).includes(heartbeat)),
  ).toEqual([true, true]);
  const { rows } = await world.db.query<{ rule_id: string; state: string }>(
    `SELECT rule_id, state FROM ${world.schema}.vigil_incidents ORDER BY id`,
  );
  expect(rows).toEqual([
    { rule_id: 'error-burst', state: 'resolved' },
    { rule_id: 'orchestrator-heartbeat', state: 'resolved' },
  ]);
});
