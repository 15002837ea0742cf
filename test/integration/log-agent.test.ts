import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';

let env: TestEnv | undefined;
let dir: string | undefined;
afterEach(async () => {
  await env?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
  env = dir = undefined;
});

const traceback = (n: number) =>
  [
    `2025-07-08 11:17:0${n},123 ERROR helix.orchestrator: task 10903${n} crashed`,
    'Traceback (most recent call last):',
    '  File "/app/orchestrator.py", line 88, in poll',
    `ValueError: task 10903${n}`,
    '',
  ].join('\n');

it('an agent with a log source: two tracebacks in production.log open one incident, told on Slack', async () => {
  const world = (env = await createTestEnv());
  dir = await mkdtemp(join(tmpdir(), 'vigil-log-agent-'));
  const log = join(dir, 'production.log');
  const config = world.config({
    rules: { dir: 'test/fixtures/rules-log', vars: {} },
    stateDir: join(dir, 'state'),
    sources: [
      {
        kind: 'log',
        name: 'helix',
        paths: [log],
        multiline: 'python-traceback',
        multilineWait: '100ms',
        pollEvery: '50ms',
        signals: [
          { name: 'helix-traceback', match: '^Traceback' },
          { name: 'helix-schema-validation', match: 'Schema validation failed' },
        ],
      },
    ],
  });
  await world.agent(config).start();
  // Written after the start: the file is new, so it is read from its first line.
  await writeFile(
    log,
    `${traceback(1)}2025-07-08 11:17:03,000 INFO helix.orchestrator: polled\n${traceback(2)}`,
  );
  const post = await world.slack.waitFor((c) => c.method === 'chat.postMessage' && c.status === 200);
  expect(JSON.stringify(post)).toContain('HELIX logs tracebacks');
  const { rows } = await world.db.query<{ rule_id: string; labels: Record<string, string> }>(
    `SELECT rule_id, labels FROM ${world.schema}.vigil_incidents`,
  );
  expect(rows).toEqual([{ rule_id: 'helix-traceback', labels: { file: log } }]);
});
