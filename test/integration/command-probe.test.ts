import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandProbeSchema } from '../../src/sources/probes/command.js';
import { readProcStat } from '../../src/sources/probes/procfs.js';
import { runProbe } from '../../src/sources/probes/registry.js';

let dir: string;

/** Small node programs standing in for the seed's SOP scripts. */
const scripts: Record<string, string> = {
  'zombies.js': `console.log(JSON.stringify({ ok: false, value: 2, error: '2 zombie tasks', ids: [7, 9] }))`,
  'healthy.js': `console.log(JSON.stringify({ zombies: 0 }))`,
  'garbage.js': `console.log('zombies: 0')`,
  'not-object.js': `console.log('[1, 2]')`,
  'bad-value.js': `console.log(JSON.stringify({ value: 'many' }))`,
  'fails.js': `console.error('psql: connection refused'); process.exit(3)`,
  'env.js': `console.log(JSON.stringify({ keys: Object.keys(process.env).sort(), cwd: process.cwd(), argv: process.argv.slice(2) }))`,
  'flood.js': `const b = 'x'.repeat(65536); for (;;) process.stdout.write(b)`,
  // Starts a grandchild (same process group) that records its pid, then both hang.
  'hangs.js': `
    const { spawn } = require('node:child_process');
    const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    require('node:fs').writeFileSync(process.argv[2], process.pid + ' ' + g.pid);
    setInterval(() => {}, 1000);`,
  // Answers and exits, leaving a grandchild that holds stdout open.
  'leaves-child.js': `
    const { spawn } = require('node:child_process');
    const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: ['ignore', 'inherit', 'ignore'] });
    g.unref();
    require('node:fs').writeFileSync(process.argv[2], String(g.pid));
    console.log(JSON.stringify({ value: 1 }));`,
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-command-probe-'));
  for (const [name, body] of Object.entries(scripts)) writeFileSync(join(dir, name), body);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const probe = (script: string, extra: Record<string, unknown> = {}, args: string[] = []) =>
  commandProbeSchema.parse({
    kind: 'command',
    name: 'detect-zombie-tasks',
    argv: [process.execPath, join(dir, script), ...args],
    every: '10s',
    timeout: '3s',
    ...extra,
  });

/**
 * Gone, or a zombie nobody reaped yet (as dead as a process gets). A killed process takes a moment
 * to die and says nothing when it has: look until it has, within a bound.
 */
async function untilGone(pid: number): Promise<void> {
  for (const deadline = Date.now() + 5000; (await readProcStat(pid)) !== undefined;) {
    if (Date.now() > deadline) throw new Error(`process ${pid} is still running`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('command probe', () => {
  it('takes ok, value and fields from the JSON the program prints', async () => {
    expect(await runProbe(probe('zombies.js'))).toMatchObject({
      ok: false,
      value: 2,
      data: { error: '2 zombie tasks', ids: [7, 9], exitCode: 0 },
    });
    const healthy = await runProbe(probe('healthy.js'));
    // Without ok and value: healthy by its exit code, the value is the run time in ms.
    expect(healthy).toMatchObject({ ok: true, data: { zombies: 0 } });
    expect(healthy.value).toBe(healthy.data.durationMs);
  });

  it('fails, saying why, on output that is not a JSON object or has fields of the wrong type', async () => {
    expect((await runProbe(probe('garbage.js'))).data.error).toBe('output is not JSON: "zombies: 0"');
    expect((await runProbe(probe('not-object.js'))).data.error).toBe('output is not a JSON object');
    expect((await runProbe(probe('bad-value.js'))).data.error).toBe('output field "value" is not a number');
    expect(await runProbe(probe('garbage.js', { output: 'ignore' }))).toMatchObject({ ok: true });
  });

  it('fails on a non-zero exit with the end of stderr as the reason', async () => {
    expect(await runProbe(probe('fails.js'))).toMatchObject({
      ok: false,
      data: { error: 'exit code 3: psql: connection refused', exitCode: 3 },
    });
  });

  it('kills the program and everything it started at the timeout', async () => {
    const pidFile = join(dir, 'hangs.pid');
    const out = await runProbe(probe('hangs.js', { timeout: '1s' }, [pidFile]));
    expect(out).toMatchObject({ ok: false, data: { error: 'timed out after 1000 ms, killed' } });
    const [child, grandchild] = readFileSync(pidFile, 'utf8').split(' ').map(Number);
    await untilGone(child as number);
    await untilGone(grandchild as number);
  });

  it('leaves nothing running after a program that exits and leaves a child behind', async () => {
    const pidFile = join(dir, 'leaves.pid');
    const out = await runProbe(probe('leaves-child.js', {}, [pidFile]));
    expect(out).toMatchObject({ ok: true, value: 1 });
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await untilGone(grandchild);
  });

  it('stops reading at maxOutputBytes and kills the program', async () => {
    const out = await runProbe(probe('flood.js', { maxOutputBytes: 100_000 }));
    expect(out).toMatchObject({ ok: false, data: { error: 'output larger than 100000 bytes, killed' } });
  });

  it('passes only PATH and the allowed variables, runs in cwd, and takes argv literally (no shell)', async () => {
    process.env.VIGIL_PROBE_ALLOWED = 'yes';
    process.env.VIGIL_PROBE_SECRET = 'no';
    try {
      const out = await runProbe(
        probe('env.js', { env: ['VIGIL_PROBE_ALLOWED'], cwd: dir }, ['$(touch x)', '*']),
      );
      expect(out.data).toMatchObject({
        keys: ['PATH', 'VIGIL_PROBE_ALLOWED'],
        cwd: dir,
        argv: ['$(touch x)', '*'],
      });
      expect(existsSync(join(dir, 'x'))).toBe(false);
    } finally {
      delete process.env.VIGIL_PROBE_ALLOWED;
      delete process.env.VIGIL_PROBE_SECRET;
    }
  });

  it('fails with the reason when the program cannot be run', async () => {
    const out = await runProbe(probe('healthy.js', { argv: [join(dir, 'no-such-program')] }));
    expect(out).toMatchObject({ ok: false, data: { error: expect.stringMatching(/cannot run .*ENOENT/) } });
  });
});
