import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand, runCommandSchema } from '../../src/remediate/actions/run-command.js';
import { childEnv, runProgram } from '../../src/remediate/process/spawn.js';
import { isRunning, killAll, pidsIn, untilGone } from '../support/processes.js';
import { recordingContext } from '../support/step-recorder.js';

const fixture = join(import.meta.dirname, '../fixtures/remediate/program.mjs');
let dir: string;
const started: number[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-run-command-'));
});
afterEach(() => {
  killAll(started);
  delete process.env.VIGIL_TEST_SECRET;
  rmSync(dir, { recursive: true, force: true });
});

const spec = (args: string[], extra: Record<string, unknown> = {}) =>
  runCommandSchema.parse({
    action: 'run-command',
    program: process.execPath,
    args: [fixture, ...args],
    ...extra,
  });

describe('run-command', () => {
  it('is done on exit code 0 and records stdout and stderr', async () => {
    const ctx = recordingContext();
    const result = await runCommand.run(spec(['exit', '0']), ctx);
    expect(result).toEqual({ outcome: 'done', summary: `${process.execPath} ran: exit code 0` });
    expect(ctx.steps).toHaveLength(1);
    expect(ctx.steps[0]).toMatchObject({
      name: 'run',
      outcome: 'ok',
      detail: expect.stringMatching(/^exit code 0 in \d+ ms$/),
    });
    expect(ctx.steps[0]?.output).toContain('exiting with 0');
    expect(ctx.steps[0]?.output).toContain('to stderr too');
  });

  it('fails on an exit code not in okExitCodes, and is done on one that is', async () => {
    const failed = await runCommand.run(spec(['exit', '3']), recordingContext());
    expect(failed).toEqual({ outcome: 'failed', summary: `${process.execPath} failed: exit code 3` });
    const ok = await runCommand.run(spec(['exit', '3'], { okExitCodes: [0, 3] }), recordingContext());
    expect(ok.outcome).toBe('done');
  });

  it('kills a program that outlives its timeout, with everything it started', async () => {
    const pidFile = join(dir, 'pids');
    const ctx = recordingContext();
    // Long enough for the program to start and write its pids on a busy machine.
    const result = await runCommand.run(spec(['hang', pidFile], { timeout: '1500ms' }), ctx);
    expect(result).toEqual({
      outcome: 'failed',
      summary: `${process.execPath} failed: timed out after 1500ms, killed by SIGTERM`,
    });
    expect(ctx.steps[0]?.outcome).toBe('failed');
    const pids = await pidsIn(pidFile);
    started.push(...pids);
    expect(pids).toHaveLength(2);
    for (const pid of pids) await untilGone(pid);
  });

  it('follows SIGTERM with SIGKILL when the program ignores it', async () => {
    const pidFile = join(dir, 'pids');
    const args = [fixture, 'stubborn', pidFile];
    const result = await runProgram(process.execPath, args, {
      env: childEnv(['PATH']),
      timeoutMs: 1500,
      killGraceMs: 300,
      maxOutput: 1024,
    });
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    const pids = await pidsIn(pidFile);
    started.push(...pids);
    for (const pid of pids) await untilGone(pid);
  });

  it('stops the program when the run is aborted', async () => {
    const pidFile = join(dir, 'pids');
    const abort = new AbortController();
    const ctx = recordingContext(abort.signal);
    const running = runCommand.run(spec(['hang', pidFile]), ctx);
    const pids = await pidsIn(pidFile);
    started.push(...pids);
    abort.abort();
    expect(await running).toEqual({ outcome: 'failed', summary: `${process.execPath} failed: aborted` });
    for (const pid of pids) await untilGone(pid);
  });

  it('keeps the tail of a 10 MiB output and counts the rest', async () => {
    const result = await runProgram(process.execPath, [fixture, 'flood', '10'], {
      env: childEnv(['PATH']),
      timeoutMs: 20_000,
      maxOutput: 4096,
    });
    expect(result.exitCode).toBe(0);
    expect(result.outputBytes).toBe(10 * 1024 * 1024 + '\nTHE-END\n'.length);
    expect(result.output).toBe(
      `…(${result.outputBytes - 4096} earlier bytes cut)\n${'x'.repeat(4087)}\nTHE-END\n`,
    );
    const ctx = recordingContext();
    await runCommand.run(spec(['flood', '10'], { maxOutput: 100 }), ctx);
    expect(ctx.steps[0]?.output).toMatch(/^…\(\d+ earlier bytes cut\)\nx{91}\nTHE-END\n$/);
  });

  it('passes only allowlisted variables and fixed values to the child', async () => {
    process.env.VIGIL_TEST_SECRET = 'hunter2';
    const env = async (extra: Record<string, unknown>) => {
      const ctx = recordingContext();
      await runCommand.run(spec(['env'], extra), ctx);
      return JSON.parse(ctx.steps[0]?.output ?? '') as Record<string, string>;
    };
    expect(await env({ setEnv: { HELIX_ENV: 'production' } })).toEqual({
      PATH: process.env.PATH,
      HELIX_ENV: 'production',
    });
    expect(await env({ env: ['PATH', 'VIGIL_TEST_SECRET'] })).toEqual({
      PATH: process.env.PATH,
      VIGIL_TEST_SECRET: 'hunter2',
    });
  });

  it('looks a bare program name up in the child’s PATH, not the agent’s', async () => {
    const found = await runCommand.run(
      spec([], { program: 'node', args: [fixture, 'exit', '0'] }),
      recordingContext(),
    );
    expect(found.outcome).toBe('done');
    const ctx = recordingContext();
    const notFound = await runCommand.run(
      spec([], { program: 'node', args: [fixture, 'exit', '0'], setEnv: { PATH: dir } }),
      ctx,
    );
    expect(notFound).toEqual({ outcome: 'failed', summary: 'node failed: cannot start: ENOENT' });
    expect(ctx.steps[0]).toMatchObject({ name: 'run', outcome: 'failed' });
  });

  it('does not wait for background children holding the output open', async () => {
    const pidFile = join(dir, 'pid');
    const ctx = recordingContext();
    const result = await runCommand.run(spec(['background', pidFile]), ctx);
    const [child] = await pidsIn(pidFile);
    started.push(child as number);
    expect(result.outcome).toBe('done');
    expect(ctx.steps[0]?.output).toBe('started\n');
    // The child holds the output for 10 s; the run ended long before, and left it running.
    expect(Number(/^exit code 0 in (\d+) ms$/.exec(ctx.steps[0]?.detail ?? '')?.[1])).toBeLessThan(2000);
    expect(await isRunning(child as number)).toBe(true);
  });
});
