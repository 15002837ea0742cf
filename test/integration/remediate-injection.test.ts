import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand, runCommandSchema } from '../../src/remediate/actions/run-command.js';
import { injectionCorpus } from '../support/injection-corpus.js';
import { recordingContext } from '../support/step-recorder.js';

const fixture = join(import.meta.dirname, '../fixtures/remediate/program.mjs');
let canaryDir: string;

beforeEach(() => {
  canaryDir = mkdtempSync(join(tmpdir(), 'vigil-injection-'));
  mkdirSync(join(canaryDir, 'x'));
  writeFileSync(join(canaryDir, 'x', 'keep'), 'still here');
});
afterEach(() => rmSync(canaryDir, { recursive: true, force: true }));

/** Nothing created, nothing deleted: no string was ever run. */
function expectNothingExecuted(): void {
  expect(readdirSync(canaryDir)).toEqual(['x']);
  expect(readdirSync(join(canaryDir, 'x'))).toEqual(['keep']);
}

const spec = (args: string[], extra: Record<string, unknown> = {}) =>
  runCommandSchema.parse({
    action: 'run-command',
    program: process.execPath,
    args: [fixture, ...args],
    ...extra,
  });

describe('hostile strings given to run-command', () => {
  it('arrive as argv elements, each one whole and byte-for-byte, and nothing runs', async () => {
    const hostile = injectionCorpus(canaryDir)
      .filter((c) => !c.unpassable)
      .map((c) => c.value);
    const ctx = recordingContext();
    const result = await runCommand.run(
      spec(['argv', ...hostile], { cwd: canaryDir, maxOutput: 64 * 1024 }),
      ctx,
    );
    expect(result.outcome).toBe('done');
    const echoed = (JSON.parse(ctx.steps[0]?.output ?? '') as string[]).map((b) =>
      Buffer.from(b, 'base64').toString(),
    );
    expect(echoed).toEqual(hostile);
    expectNothingExecuted();
  });

  it('arrive as fixed environment values unchanged, and nothing runs', async () => {
    const cases = injectionCorpus(canaryDir).filter((c) => !c.unpassable);
    const setEnv = Object.fromEntries(cases.map((c, i) => [`HOSTILE_${i}`, c.value]));
    const ctx = recordingContext();
    await runCommand.run(spec(['env'], { setEnv, maxOutput: 64 * 1024 }), ctx);
    const env = JSON.parse(ctx.steps[0]?.output ?? '') as Record<string, string>;
    expect(env).toEqual({ PATH: process.env.PATH, ...setEnv });
    expectNothingExecuted();
  });

  it('are shown quoted on one line in what a dry run posts', () => {
    const hostile = injectionCorpus(canaryDir)
      .filter((c) => !c.unpassable)
      .map((c) => c.value);
    const line = runCommand.describe(spec(hostile));
    expect(line).not.toMatch(/[\r\n\0\u202e]/);
    expect(line).toContain(` "; touch ${canaryDir}/semicolon" `);
    expect(line).toContain(' "$(touch ');
    expect(line.length).toBeLessThan(hostile.length * 140);
  });

  it('are refused where they cannot be passed at all (NUL bytes), not cut', () => {
    for (const c of injectionCorpus(canaryDir).filter((c) => c.unpassable)) {
      expect(
        runCommandSchema.safeParse({ action: 'run-command', program: 'true', args: [c.value] }).success,
      ).toBe(false);
      expect(
        runCommandSchema.safeParse({ action: 'run-command', program: 'true', setEnv: { X: c.value } })
          .success,
      ).toBe(false);
    }
  });
});
