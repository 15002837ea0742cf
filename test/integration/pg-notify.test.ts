import { afterEach, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { captureLogs } from '../support/log-capture.js';
import { quietPeriod, until } from '../support/quiet.js';
import { startSources, type SourceHarness } from '../support/source-harness.js';

let env: TestEnv | undefined;
let h: SourceHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await env?.cleanup();
  env = undefined;
});

it('pg-notify: a JSON payload is an event; bad ones are counted and logged with the reason, and listening goes on', async () => {
  env = await createTestEnv();
  const logs = captureLogs('warn');
  const config = env.config({
    sources: [{ kind: 'pg-notify', name: 'app', channels: ['helix_events', 'other'], maxPayloadBytes: 200 }],
  });
  h = await startSources(config, { agentId: `test-${env.id}-0`, log: logs.log });
  const notify = (channel: string, payload: string) =>
    env!.db.query('SELECT pg_notify($1, $2)', [channel, payload]);
  await notify('helix_events', JSON.stringify({ name: 'deploy', labels: { service: 'api' }, ok: true }));
  const refused: Array<[string, string]> = [
    ['not json {', 'not-json'],
    ['', 'not-json'],
    [JSON.stringify({ name: 'x', data: 'y'.repeat(300) }), 'too-big'],
    [JSON.stringify({ labels: {} }), 'shape'],
    [JSON.stringify({ name: 'x', labels: { n: 1 } }), 'shape'],
    [JSON.stringify({ name: 'x', extra: true }), 'shape'],
    [JSON.stringify(['name']), 'shape'],
    [JSON.stringify({ name: 'x', id: 'a:b' }), 'shape'],
  ];
  for (const [payload] of refused) await notify('helix_events', payload);
  await notify('other', JSON.stringify({ name: 'queue-depth', value: 42, id: 'qd-1', data: { q: 'tasks' } }));
  await until('both good notifications', () => h!.emitted >= 2);
  const total = () =>
    ['not-json', 'too-big', 'shape'].reduce(
      (n, reason) => n + h!.metrics.value('vigil_source_rejected_total', { source: 'app', reason }),
      0,
    );
  await until('every bad one counted', () => total() >= refused.length);
  await quietPeriod(300);
  for (const reason of ['not-json', 'too-big', 'shape'])
    expect(h.metrics.value('vigil_source_rejected_total', { source: 'app', reason })).toBe(
      refused.filter(([, r]) => r === reason).length,
    );
  const warned = logs.records().filter((r) => r.msg === 'notification refused');
  expect(warned.map((r) => r.reason)).toEqual(refused.map(([, r]) => r));
  expect(warned.every((r) => r.channel === 'helix_events' && (r.problems as string[]).length > 0)).toBe(true);
  const events = (await h.queued()).sort((a, b) => a.name.localeCompare(b.name));
  expect(events).toMatchObject([
    {
      source: 'pg',
      name: 'deploy',
      ok: true,
      labels: { source: 'app', channel: 'helix_events', service: 'api' },
    },
    { id: 'pg-app-qd-1', name: 'queue-depth', value: 42, data: { q: 'tasks' }, labels: { channel: 'other' } },
  ]);
});
