import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { restartService } from '../../src/remediate/actions/restart-service.js';
import { findByCmdline } from '../../src/sources/probes/procfs.js';
import {
  actionContext,
  alive,
  helixApi,
  Processes,
  spec,
  startedPid,
  unusedPort,
} from '../support/restart-service.js';

// A port range for this file alone, below the OS's ephemeral range (where other tests' port-0
// listeners land); a port in it taken by someone else is skipped like the action skips it.
const RANGE = { from: 28710, to: 28739 };
const api = [process.execPath, helixApi];
const ENV_BEFORE =
  '# HELIX\nDATABASE_URL=postgresql://helix_user@localhost/helix\nAPI_PORT={port} # find-port.sh\nLOG_LEVEL=info';

const procs = new Processes();
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-restart-'));
});

afterEach(async () => {
  await procs.killAll();
  await rm(dir, { recursive: true, force: true });
});

async function health(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/health`, { signal: AbortSignal.timeout(2000) });
  return res.status;
}

/** Runs the action, and has the service it started killed after the test. */
async function run(fields: Parameters<typeof spec>[0]) {
  const c = actionContext((pid) => procs.groups.add(pid));
  const result = await restartService.run(spec({ cwd: dir, command: api, ports: RANGE, ...fields }), c.ctx);
  return { ...c, result, pid: startedPid(c.steps) };
}

/** The first port of RANGE other than `not` that can be listened on now (as the action will judge). */
async function firstFree(not: number): Promise<number> {
  for (let port = RANGE.from; port <= RANGE.to; port++) {
    if (port === not) continue;
    const server = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen({ port, host: '0.0.0.0', exclusive: true }, () => resolve(true));
    });
    if (ok) return new Promise((resolve) => server.close(() => resolve(port)));
  }
  throw new Error(`no free port in ${RANGE.from}-${RANGE.to}`);
}

describe('restart-service', () => {
  it('brings a killed API back on a free port when another process holds its old one; .env changes only API_PORT', async () => {
    const ssh = await procs.listen();
    const oldPort = await unusedPort();
    const envText = ENV_BEFORE.replace('{port}', String(oldPort));
    await writeFile(join(dir, '.env'), envText);
    await chmod(join(dir, '.env'), 0o640);
    const first = await procs.start(api, dir);
    expect(first.port).toBe(oldPort);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const holder = await procs.start(
      [
        process.execPath,
        '-e',
        `require('net').createServer().listen(${oldPort}, '127.0.0.1', () => console.log('listening ${oldPort}'))`,
      ],
      dir,
    );
    const expected = await firstFree(oldPort);

    const { result, steps, pid } = await run({ sshPort: ssh, log: 'production.log' });

    expect(result.outcome).toBe('done');
    expect(result.summary).toMatch(
      new RegExp(
        `^restarted helix-api \\(was not running\\) on port ${expected} \\(${oldPort} was held by pid ${holder.child.pid}: .*node -e .*\\); healthy after \\d+\\.\\d s$`,
      ),
    );
    expect(steps.map((s) => `${s.name}:${s.outcome}`)).toEqual([
      'ssh-guard:ok',
      'find-pids:ok',
      'stop:skipped',
      'pick-port:ok',
      'update-env:ok',
      'start:ok',
      'verify-health:ok',
    ]);
    expect(await readFile(join(dir, '.env'), 'utf8')).toBe(
      envText.replace(`API_PORT=${oldPort} `, `API_PORT=${expected} `),
    );
    expect((await stat(join(dir, '.env'))).mode & 0o777).toBe(0o640);
    expect(await health(expected)).toBe(200);
    expect(await readFile(join(dir, 'production.log'), 'utf8')).toBe(`listening ${expected}\n`);
    expect(await alive(holder.child.pid)).toBe(true);
    expect(await findByCmdline(api)).toEqual([pid]);
  });

  it('stops a running API with SIGTERM (found by its pidfile) and keeps its port when that is free', async () => {
    const ssh = await procs.listen();
    const port = await unusedPort();
    const envText = ENV_BEFORE.replace('{port}', String(port));
    await writeFile(join(dir, '.env'), envText);
    const command = [...api, '--pidfile', 'api.pid'];
    const old = await procs.start(command, dir);
    const exited = new Promise((resolve) =>
      old.child.once('exit', (code, signal) => resolve({ code, signal })),
    );

    const { result, steps, step, pid } = await run({
      sshPort: ssh,
      command,
      pidfile: 'api.pid',
      grace: '5s',
    });

    expect(result.outcome).toBe('done');
    expect(result.summary).toMatch(
      new RegExp(
        `^restarted helix-api \\(pid ${old.child.pid} stopped by SIGTERM\\) on port ${port}; healthy`,
      ),
    );
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(step('find-pids')?.detail).toBe(`pid ${old.child.pid} by pidfile ${join(dir, 'api.pid')}`);
    expect(step('sigterm')).toMatchObject({
      outcome: 'ok',
      detail: expect.stringMatching(new RegExp(`^pid ${old.child.pid} exited in `)),
    });
    expect(step('sigkill')).toMatchObject({
      outcome: 'skipped',
      detail: 'not needed: every process exited after SIGTERM',
    });
    expect(step('pick-port')?.detail).toBe(`keeping ${port}, free`);
    expect(step('update-env')?.outcome).toBe('skipped');
    expect(steps.at(-1)).toMatchObject({ name: 'verify-health', outcome: 'ok' });
    expect(await readFile(join(dir, '.env'), 'utf8')).toBe(envText);
    expect(pid).not.toBe(old.child.pid);
    expect(await health(port)).toBe(200);
    expect((await readFile(join(dir, 'api.pid'), 'utf8')).trim()).toBe(String(pid));
  });

  it('sends SIGKILL after the grace period to an API that ignores SIGTERM; a pidfile naming another process is ignored', async () => {
    const ssh = await procs.listen();
    await writeFile(join(dir, '.env'), `API_PORT=${await unusedPort()}\n`);
    // The pidfile names a live process that is not the service (this test's own): never signalled.
    await writeFile(join(dir, 'api.pid'), `${process.pid}\n`);
    const command = [...api, '--ignore-sigterm'];
    const old = await procs.start(command, dir);
    const exited = new Promise((resolve) => old.child.once('exit', (_code, signal) => resolve(signal)));
    const started = performance.now();

    const { result, step } = await run({ sshPort: ssh, command, pidfile: 'api.pid', grace: '600ms' });

    expect(result.outcome).toBe('done');
    expect(performance.now() - started).toBeGreaterThanOrEqual(600);
    expect(await exited).toBe('SIGKILL');
    expect(step('pidfile')).toMatchObject({
      outcome: 'skipped',
      detail: expect.stringMatching(
        new RegExp(`^pidfile ${join(dir, 'api.pid')} ignored: process ${process.pid} runs `),
      ),
    });
    expect(step('find-pids')?.detail).toMatch(new RegExp(`^pid ${old.child.pid} by exact command line`));
    expect(step('sigterm')).toMatchObject({
      outcome: 'ok',
      detail: `pid ${old.child.pid} still alive after 600ms`,
    });
    expect(step('sigkill')).toMatchObject({ outcome: 'ok', detail: `killed pid ${old.child.pid}` });
    expect(result.summary).toContain(`(pid ${old.child.pid} stopped by SIGKILL)`);
  });

  it('refuses, touching nothing, when nothing listens on the SSH port; proceeds when something does', async () => {
    const envText = ENV_BEFORE.replace('{port}', String(await unusedPort()));
    await writeFile(join(dir, '.env'), envText);
    const old = await procs.start(api, dir);
    const noSsh = await unusedPort();

    const refused = await run({ sshPort: noSsh });

    expect(refused.result).toEqual({
      outcome: 'refused',
      summary: `refused to restart helix-api: nothing listens on port ${noSsh} (SSH): nothing touched, a person must look (a host with no SSH server: set sshPort: false on the target)`,
    });
    expect(refused.steps).toEqual([
      {
        name: 'ssh-guard',
        outcome: 'failed',
        detail: `nothing listens on port ${noSsh} (SSH): nothing touched, a person must look (a host with no SSH server: set sshPort: false on the target)`,
      },
    ]);
    expect(await alive(old.child.pid)).toBe(true);
    expect(await readFile(join(dir, '.env'), 'utf8')).toBe(envText);
    expect(await findByCmdline(api)).toEqual([old.child.pid]);

    const ssh = await procs.listen();
    const proceeded = await run({ sshPort: ssh });
    expect(proceeded.result.outcome).toBe('done');
    expect(proceeded.steps[0]).toEqual({
      name: 'ssh-guard',
      outcome: 'ok',
      detail: `port ${ssh} is listening`,
    });
    expect(await findByCmdline(api)).toEqual([proceeded.pid]);
  });

  it('stops only the exact command line in the exact directory', async () => {
    const ssh = await procs.listen();
    const other = await mkdtemp(join(tmpdir(), 'vigil-restart-other-'));
    try {
      await writeFile(join(dir, '.env'), `API_PORT=${await unusedPort()}\n`);
      const target = await procs.start(api, dir);
      const anyPort = { API_PORT: '0' };
      const otherArgs = await procs.start([...api, '--replica'], dir, anyPort);
      const otherCwd = await procs.start(api, other, anyPort);
      const otherProgram = await procs.start([process.execPath, '--no-warnings', helixApi], dir, anyPort);

      const { result, step } = await run({ sshPort: ssh });

      expect(result.outcome).toBe('done');
      expect(step('find-pids')?.detail).toBe(
        `pid ${target.child.pid} by exact command line ${JSON.stringify(api)} in ${dir}`,
      );
      expect(await alive(target.child.pid)).toBe(false);
      for (const spared of [otherArgs, otherCwd, otherProgram])
        expect(await alive(spared.child.pid)).toBe(true);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('fails when health never comes, within the deadline', async () => {
    const ssh = await procs.listen();
    await writeFile(join(dir, '.env'), `API_PORT=${await unusedPort()}\n`);
    const { result, step } = await run({
      sshPort: ssh,
      command: [...api, '--unhealthy'],
      health: { within: '1s' },
    });

    expect(result.outcome).toBe('failed');
    expect(step('verify-health')).toMatchObject({
      outcome: 'failed',
      detail: expect.stringMatching(
        /\/api\/v1\/health: not healthy within 1 s \(last: [^)]+\) \(\d+ attempts in \d+(\.\d)? s\)$/,
      ),
    });
    expect(result.summary).toMatch(/^restarted helix-api on port \d+ \(pid \d+\) but http:/);
  });

  it('stops waiting for health when the run is aborted, and at once when the service exits', async () => {
    const ssh = await procs.listen();
    await writeFile(join(dir, '.env'), `API_PORT=${await unusedPort()}\n`);
    const c = actionContext((pid) => procs.groups.add(pid));
    setTimeout(() => c.abort.abort(), 300);
    const aborted = await restartService.run(
      spec({
        cwd: dir,
        command: [...api, '--unhealthy'],
        ports: RANGE,
        sshPort: ssh,
        // Longer than the test may take: only the abort can end the wait in time.
        health: { within: '60s' },
      }),
      c.ctx,
    );
    expect(aborted.outcome).toBe('failed');
    expect(c.step('verify-health')?.detail).toMatch(/aborted while waiting/);

    const crashed = await run({
      sshPort: ssh,
      command: [process.execPath, join(dir, 'missing.mjs')],
      health: { within: '30s' },
    });
    expect(crashed.result.outcome).toBe('failed');
    expect(crashed.step('verify-health')?.detail).toMatch(
      /: exited with code 1 \(\d+ attempts in \d+(\.\d)? s\)$/,
    );
  });

  it('fails before touching .env when no port of the range is free', async () => {
    const ssh = await procs.listen();
    const held = await procs.listen();
    const envText = `API_PORT=${held}\n`;
    await writeFile(join(dir, '.env'), envText);

    const { result, steps } = await run({ sshPort: ssh, ports: { from: held, to: held } });

    expect(result.outcome).toBe('failed');
    expect(steps.at(-1)).toMatchObject({ name: 'pick-port', outcome: 'failed' });
    expect(steps.at(-1)?.detail).toMatch(
      new RegExp(`^${held} was held by pid ${process.pid}: .*, and no port in ${held}–${held} is free$`),
    );
    expect(await readFile(join(dir, '.env'), 'utf8')).toBe(envText);
    expect(await findByCmdline(api)).toEqual([]);
  });
});
