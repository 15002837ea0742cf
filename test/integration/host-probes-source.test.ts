import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { VigilEvent } from '../../src/contracts/event.js';
import { createLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { loadRules } from '../../src/rules/loader.js';
import type { SourceContext } from '../../src/sources/kind.js';
import { hostProbesKind } from '../../src/sources/probes/host-source.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { captureLogs } from '../support/log-capture.js';
import { quietPeriod, until } from '../support/quiet.js';

let env: TestEnv | undefined;
let dir: string | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A rules folder with one host probe rule: memory above 0 % (always, so it fails every run). */
function rulesDir(every: string, extra = ''): string {
  dir = mkdtempSync(join(tmpdir(), 'vigil-host-probes-'));
  writeFileSync(
    join(dir, 'memory.yaml'),
    `id: host-memory
title: Memory use on this host
severity: warning
ackSla: 30m
probe: { kind: system, name: host-memory, measure: memory, max: 0, every: ${every}, timeout: 50ms${extra} }
groupBy: [host]
condition: { kind: consecutive, count: 2 }
notify: [slack]
`,
  );
  return dir;
}

/** host-probes uses the rules, metrics and log of its context; the rest is the agent's. */
function sourceContext(rules: string, metrics: Metrics): SourceContext {
  return {
    rules: loadRules(rules, {}),
    metrics,
    log: createLogger({ level: 'silent' }),
  } as SourceContext;
}

describe('host-probes source', () => {
  it('opens an incident on this host through the pipeline; the cluster probes source leaves it alone', async () => {
    env = await createTestEnv();
    // The default sources: the cluster's probes and this host's.
    const agent = env.agent(env.config({ rules: { dir: rulesDir('100ms') } }));
    await agent.start();
    await env.slack.waitFor((c) => c.method === 'chat.postMessage' && c.status === 200);
    const { rows } = await env.db.query(`SELECT rule_id, labels, summary FROM ${env.schema}.vigil_incidents`);
    expect(rows).toEqual([
      {
        rule_id: 'host-memory',
        labels: { host: hostname() },
        summary: expect.stringMatching(/^2 consecutive failures of host-memory: memory % [\d.]+ is above 0$/),
      },
    ]);
    const probes = new Queue('probes', { connection: env.redis, prefix: env.prefix });
    try {
      expect(await probes.getJobSchedulers()).toEqual([]);
    } finally {
      await probes.close();
    }
  });

  it('an agent without host-probes warns at start that the rule will never fire', async () => {
    env = await createTestEnv();
    const logs = captureLogs('warn');
    const config = env.config({ rules: { dir: rulesDir('1s') }, sources: [{ kind: 'probes' }] });
    await env.agent(config, { log: logs.log }).start();
    expect(logs.records()).toContainEqual(
      expect.objectContaining({
        msg: 'rule will never fire',
        problem: expect.stringMatching(/^rule "host-memory": no configured source runs its system probe/),
      }),
    );
  });

  it('runs on multiples of every with ids fixed by the planned time; skips a run while one is in flight; close waits for it', async () => {
    const metrics = new Metrics();
    const source = hostProbesKind.create(
      { kind: 'host-probes', name: 'host-probes' },
      sourceContext(rulesDir('100ms'), metrics),
    );
    const events: VigilEvent[] = [];
    let release: () => void = () => undefined;
    let held = false;
    await source.start(async (batch) => {
      events.push(...batch);
      // The third run's emit hangs (Redis away, say) until released.
      if (events.length === 3) {
        held = true;
        await new Promise<void>((resolve) => (release = resolve));
      }
    });
    await until('a run to hang in emit', () => held);
    await until(
      'a slot to be skipped',
      () => metrics.value('vigil_probe_runs_total', { probe: 'host-memory', outcome: 'skipped' }) >= 1,
    );
    let closed = false;
    const closing = source.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    release();
    await closing;
    const host = hostname();
    expect(events).toHaveLength(3);
    for (const e of events) {
      const planned = Date.parse(e.at);
      expect(planned % 100).toBe(0);
      expect(e).toMatchObject({
        id: `probe:host-memory:${host}:${planned}`,
        source: 'probe',
        name: 'host-memory',
        host,
        labels: { probe: 'host-memory', host },
        ok: false,
      });
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
    // No run after close.
    const after = events.length;
    await quietPeriod(300);
    expect(events).toHaveLength(after);
  });

  it('a rule reload restarts a changed probe with its new spec and stops a dropped one', async () => {
    const metrics = new Metrics();
    const folder = rulesDir('100ms');
    const source = hostProbesKind.create(
      { kind: 'host-probes', name: 'host-probes' },
      sourceContext(folder, metrics),
    );
    const events: VigilEvent[] = [];
    await source.start(async (batch) => void events.push(...batch));
    await until('a run', () => events.length > 0);

    rmSync(join(folder, 'memory.yaml'));
    const changed = rulesDir('100ms', ', labels: { spec: "2" }');
    rmSync(folder, { recursive: true });
    await source.rulesChanged?.(loadRules(changed, {}));
    const firstNew = () => events.findIndex((e) => e.labels.spec === '2');
    await until('a run of the new spec', () => firstNew() >= 0);
    // Runs of one probe never overlap, so nothing of the old spec comes after the first of the new.
    expect(events.slice(firstNew()).every((e) => e.labels.spec === '2')).toBe(true);

    await source.rulesChanged?.({ rules: [], probes: [] });
    const stopped = events.length;
    await quietPeriod(400);
    // At most a run already in flight when the rule went.
    expect(events.length - stopped).toBeLessThanOrEqual(1);
    await source.close();
  });
});
