import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { injectionCorpus } from '../support/injection-corpus.js';
import { quietPeriod, until } from '../support/quiet.js';
import { remediationConfig, rulesDir, runsOf } from '../support/remediation-world.js';

const program = join(import.meta.dirname, '../fixtures/remediate/program.mjs');
let env: TestEnv | undefined;
let cleanups: Array<() => void> = [];
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
  cleanups.forEach((c) => c());
  cleanups = [];
});

/**
 * A rule remediating the service its events name: `targetFromLabel` may pick `echo` only, and a
 * second entry always runs `echo`, a fixed program whose argv it reports. Events carry hostile labels.
 */
const rule = `
id: hostile
title: Hostile input
severity: warning
ackSla: 1h
match: { source: manual, name: hostile }
groupBy: [service, detail]
condition: { kind: consecutive, count: 1 }
notify: [slack]
remediate:
  - targetFromLabel: { label: service, among: [echo] }
    cooldown: 0s
    budget: { runs: 1000, within: 1m }
  - target: echo
    cooldown: 0s
    budget: { runs: 1000, within: 1m }
`;

describe('hostile labels and payloads in an agent with remediation', () => {
  it('never reach a command line, a path or SQL text: labels only pick among configured targets', async () => {
    env = await createTestEnv();
    const world = env;
    const canaryDir = mkdtempSync(join(tmpdir(), 'vigil-injection-agent-'));
    cleanups.push(() => rmSync(canaryDir, { recursive: true, force: true }));
    mkdirSync(join(canaryDir, 'x'));
    writeFileSync(join(canaryDir, 'x', 'keep'), 'still here');
    const rules = rulesDir({ 'hostile.yaml': rule });
    cleanups.push(rules.remove);
    const cfg = world.config({
      rules: { dir: rules.dir, vars: {} },
      ...remediationConfig({
        echo: {
          action: 'run-command',
          program: process.execPath,
          args: [program, 'argv', 'fixed'],
          cwd: canaryDir,
        },
      }),
    });
    const agent = world.agent(cfg);
    await agent.start();
    const tables = async () =>
      (
        await world.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1`,
          [world.schema],
        )
      ).rows[0]!.n;
    const tablesBefore = await tables();
    const corpus = injectionCorpus(canaryDir);
    const hostile = corpus.filter((c) => !c.unpassable);
    let n = 0;
    for (const c of corpus)
      await agent.ingest({
        id: `h${++n}`,
        source: 'manual',
        name: 'hostile',
        at: new Date().toISOString(),
        host: c.value.slice(0, 200),
        labels: { service: c.value, detail: String(n), path: c.value },
        ok: false,
        data: { message: c.value },
      });
    await until(
      'every run ended',
      async () => {
        const runs = await runsOf(world);
        return (
          runs.length === hostile.length * 2 && runs.every((r) => ['refused', 'succeeded'].includes(r.state))
        );
      },
      60_000,
    );
    await quietPeriod();
    const runs = await runsOf(world);
    expect(runs).toHaveLength(hostile.length * 2);
    // The label picked nothing: every one named no configured target, and was refused with its value quoted.
    const picked = runs.filter((r) => r.state === 'refused');
    expect(picked).toHaveLength(hostile.length);
    for (const r of picked) {
      expect(r.target).toBe('');
      expect(r.outcome).toMatch(/^label service=".*" names no target among echo$/s);
    }
    // The fixed target ran its configured argv, exactly, every time.
    const fixed = runs.filter((r) => r.state === 'succeeded');
    expect(fixed.every((r) => r.target === 'echo')).toBe(true);
    const { rows: outputs } = await world.db.query<{ output: string }>(
      `SELECT s.output FROM ${world.schema}.vigil_remediation_steps s
       JOIN ${world.schema}.vigil_remediation_runs r ON r.id = s.run_id WHERE r.target = 'echo' AND s.name = 'run'`,
    );
    expect(outputs).toHaveLength(hostile.length);
    const fixedArg = JSON.stringify([Buffer.from('fixed').toString('base64')]);
    for (const o of outputs) expect(o.output).toBe(fixedArg);
    // Nothing was run, created or deleted; no table dropped; the agent still answers.
    expect(readdirSync(canaryDir)).toEqual(['x']);
    expect(readdirSync(join(canaryDir, 'x'))).toEqual(['keep']);
    expect(await tables()).toBe(tablesBefore);
    const health = await fetch(`${agent.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    // Events with a NUL character (PostgreSQL can store none) were refused one by one and counted.
    const metrics = await (await fetch(`${agent.httpUrl}/metrics`)).text();
    expect(metrics).toContain(
      `vigil_events_rejected_total{reason="schema"} ${corpus.length - hostile.length}`,
    );
  }, 90_000);
});
