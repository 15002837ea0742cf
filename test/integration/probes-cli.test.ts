import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestEnv, DATABASE_URL, REDIS_URL, type TestEnv } from '../support/env.js';

let env: TestEnv | undefined;
let dir: string | undefined;
afterEach(async () => {
  await env?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
  env = dir = undefined;
});

const rule = (probe: string, extra = '', probeExtra = '') => `id: ${probe}-down
title: ${probe} is down
severity: high
ackSla: 10m
probe:
  kind: http
  name: ${probe}
  url: http://127.0.0.1:1/health
  every: 1m
${probeExtra}condition:
  kind: consecutive
  count: 3
${extra}`;

describe('vigil probes', () => {
  it('list shows every scheduler; prune --dry-run lists the ones no enabled rule defines; prune removes them', async () => {
    const world = await createTestEnv();
    env = world;
    dir = mkdtempSync(join(tmpdir(), 'vigil-probes-cli-'));
    const rules = join(dir, 'rules');
    mkdirSync(rules);
    writeFileSync(join(rules, 'alpha.yaml'), rule('alpha'));
    writeFileSync(join(rules, 'beta.yaml'), rule('beta', 'enabled: false\n'));
    const config = join(dir, 'vigil.yaml');
    writeFileSync(
      config,
      `database:\n  url: ${DATABASE_URL}\nredis:\n  url: ${REDIS_URL}\n  prefix: ${world.prefix}\nrules:\n  dir: ${rules}\n`,
    );
    const queue = new Queue('probes', { connection: world.redis, prefix: world.prefix });
    try {
      for (const probe of ['alpha', 'beta', 'retired']) {
        await queue.upsertJobScheduler(
          `probe-${probe}`,
          { every: 60_000 },
          { name: 'probe', data: { probe, spec: {} } },
        );
      }
      const list = await runCli(['probes', 'list', '--config', config]);
      expect(list.stderr).toBe('');
      expect(list.code).toBe(0);
      const lines = list.stdout.trim().split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[0]).toMatch(/^probe-alpha {2}probe alpha {2}every 1m {2}next \d{4}-\d\d-\d\dT[\d:.]+Z$/);
      expect(lines[1]).toMatch(/^probe-beta {2}probe beta .*\(no enabled rule here defines it\)$/);
      expect(lines[2]).toMatch(/^probe-retired {2}probe retired .*\(no enabled rule here defines it\)$/);
      expect(lines[3]).toBe('3 probe scheduler(s)');

      const dry = await runCli(['probes', 'prune', '--dry-run', '--config', config]);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/^would remove probe-beta {2}probe beta {2}every 1m/m);
      expect(dry.stdout).toMatch(/^would remove probe-retired {2}probe retired/m);
      expect(dry.stdout).toContain('2 scheduler(s) would be removed, 1 kept (dry run: nothing changed)');
      expect((await queue.getJobSchedulers()).map((s) => s.key).sort()).toEqual([
        'probe-alpha',
        'probe-beta',
        'probe-retired',
      ]);

      const prune = await runCli(['probes', 'prune', '--config', config]);
      expect(prune.code).toBe(0);
      expect(prune.stdout).toMatch(/^removed probe-beta /m);
      expect(prune.stdout).toMatch(/^removed probe-retired /m);
      expect(prune.stdout).toContain('2 scheduler(s) removed, 1 kept');
      expect((await queue.getJobSchedulers()).map((s) => s.key)).toEqual(['probe-alpha']);
      // Their planned runs went with them: nothing is left to run for the removed probes.
      const planned = await queue.getJobs(['waiting', 'delayed', 'prioritized']);
      expect(planned.map((j) => j.id)).toEqual([expect.stringMatching(/^repeat:probe-alpha:\d+$/)]);
    } finally {
      await queue.close();
    }
  });

  it('rules validate reports an interval of 0 and a timeout not below it with file:line', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-probes-cli-'));
    writeFileSync(join(dir, 'a.yaml'), rule('zero').replace('every: 1m', 'every: 0s'));
    writeFileSync(join(dir, 'b.yaml'), rule('slow', '', '  timeout: 1m\n'));
    const r = await runCli(['rules', 'validate', '--dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'a.yaml')}:9:10 probe.every: must be more than 0`);
    expect(r.stderr).toContain(`${join(dir, 'b.yaml')}:10:12 probe.timeout: 1m must be less than every (1m)`);
  });
});
