import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { quietPeriod } from '../support/quiet.js';

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

it('an agent with a log source: two tracebacks open one incident, told with the traceback; the heartbeat resolves it', async () => {
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
          // The same name's recovery signal: the orchestrator is alive and polling again.
          { name: 'helix-traceback', match: 'orchestrator: heartbeat', ok: true },
          { name: 'helix-schema-validation', match: 'Schema validation failed' },
        ],
      },
    ],
  });
  const agent = world.agent(config);
  await agent.start();
  // Written after the start: the file is new, so it is read from its first line.
  await writeFile(
    log,
    `${traceback(1)}2025-07-08 11:17:03,000 INFO helix.orchestrator: polled\n${traceback(2)}`,
  );
  const post = await world.slack.waitFor((c) => c.method === 'chat.postMessage' && c.status === 200);
  expect(JSON.stringify(post)).toContain('HELIX logs tracebacks');
  // The alert shows the record itself, so the reader sees what crashed.
  expect(JSON.stringify(post)).toContain('ValueError: task 109032');
  // One incident, judged after a quiet period: a re-read record would open or tell it again later.
  await quietPeriod(1000);
  expect(world.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 200)).toHaveLength(
    1,
  );
  const { rows } = await world.db.query<{ rule_id: string; labels: Record<string, string> }>(
    `SELECT rule_id, labels FROM ${world.schema}.vigil_incidents`,
  );
  expect(rows).toEqual([{ rule_id: 'helix-traceback', labels: { file: log } }]);
  const resolved = world.slack.waitFor((c) => c.method === 'chat.update' && c.status === 200);
  await appendFile(log, '2025-07-08 11:17:09,000 INFO helix.orchestrator: heartbeat\n');
  expect(JSON.stringify(await resolved)).toContain('resolved');
  // Two tracebacks and the heartbeat: what the source handed over, by source.
  expect(agent.metrics.value('vigil_source_events_total', { source: 'helix', kind: 'log' })).toBe(3);
});
