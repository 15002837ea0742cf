import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hostProbeRunner } from '../../src/sources/probes/registry.js';
import { hostProbeSchema } from '../../src/sources/probes/schema.js';

let dir: string;
const children: ChildProcess[] = [];

beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'vigil-host-probe-'))));
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A real process to watch: its argv is unique to this test, so no other process can match it. */
function startChild(code: string): { child: ChildProcess; argv: string[] } {
  const argv = [process.execPath, '-e', code, `vigil-probe-test-${process.pid}-${children.length}`];
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: 'ignore' });
  children.push(child);
  return { child, argv };
}

const busy = 'for (;;) {}';
const idle = 'setInterval(() => {}, 1000)';

const runner = (spec: Record<string, unknown>) =>
  hostProbeRunner(hostProbeSchema.parse({ name: 'p', every: '10s', timeout: '1s', ...spec }));

describe('process probe', () => {
  it('finds a process by its exact command line: alive, its CPU % and RSS', async () => {
    const { child, argv } = startChild(busy);
    const run = runner({ kind: 'process', cmdline: argv });
    const first = await run();
    expect(first).toMatchObject({ ok: true, data: { alive: true, pids: [child.pid] } });
    // A busy loop keeps a core busy (less on a loaded machine); "% of one core" passes 100 only with threads.
    expect(first.value).toBeGreaterThan(10);
    expect(first.value).toBeLessThanOrEqual(400);
    // The next run measures since this one.
    const second = await run();
    expect(second.value).toBeGreaterThan(10);
    const rss = await runner({ kind: 'process', cmdline: argv, measure: 'rss' })();
    const statusKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
    expect(rss.value).toBeGreaterThan(1);
    expect(rss.value).toBeLessThan((statusKb / 1024) * 2);
  });

  it('fails above max, naming the measure and the limit', async () => {
    const { argv } = startChild(busy);
    const out = await runner({ kind: 'process', cmdline: argv, max: 5 })();
    expect(out).toMatchObject({
      ok: false,
      data: { error: expect.stringMatching(/^CPU % [\d.]+ is above 5$/) },
    });
  });

  it('matches only the whole command line, never a part of it', async () => {
    const { argv } = startChild(idle);
    // Its arguments without the program: a part no other process can have whole (the first ones
    // alone, `node -e <code>`, may well be another test's process).
    const out = await runner({ kind: 'process', cmdline: argv.slice(1) })();
    expect(out).toMatchObject({
      ok: false,
      data: { alive: false, error: expect.stringMatching(/^no process has the command line/) },
    });
  });

  it('reads a pidfile, checks the command line when given, and fails on a stale or bad one', async () => {
    const { child, argv } = startChild(idle);
    const pidfile = join(dir, 'helix.pid');
    writeFileSync(pidfile, `${child.pid}\n`);
    expect(await runner({ kind: 'process', pidfile })()).toMatchObject({
      ok: true,
      data: { pids: [child.pid] },
    });
    expect(await runner({ kind: 'process', pidfile, cmdline: argv })()).toMatchObject({ ok: true });
    const other = await runner({ kind: 'process', pidfile, cmdline: ['uvicorn', 'helix:app'] })();
    expect(other.data.error).toMatch(
      new RegExp(`^process ${child.pid} \\(pidfile .*\\) runs .*, not \\["uvicorn","helix:app"\\]$`),
    );
    writeFileSync(pidfile, 'banana');
    expect((await runner({ kind: 'process', pidfile })()).data.error).toMatch(/holds "banana", not a pid/);
    expect((await runner({ kind: 'process', pidfile: join(dir, 'none.pid') })()).data.error).toMatch(
      /none\.pid: ENOENT$/,
    );
  });

  it('reports a dead process as failed, by pidfile and by command line', async () => {
    const { child, argv } = startChild(idle);
    const pidfile = join(dir, 'dead.pid');
    writeFileSync(pidfile, String(child.pid));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(await runner({ kind: 'process', pidfile })()).toMatchObject({
      ok: false,
      value: 0,
      data: { alive: false, error: `process ${child.pid} (pidfile ${pidfile}) is not running` },
    });
    expect(await runner({ kind: 'process', cmdline: argv })()).toMatchObject({
      ok: false,
      data: { alive: false },
    });
  });

  it('with a port: fails while another process listens on it, naming that process; free or its own, passes', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const own = join(dir, 'own.pid');
    const other = join(dir, 'other.pid');
    const gone = join(dir, 'gone.pid');
    writeFileSync(own, `${process.pid}\n`);
    writeFileSync(other, `${startChild(idle).child.pid}\n`);
    writeFileSync(gone, '2147483646\n');
    try {
      expect(await runner({ kind: 'process', pidfile: own, port })()).toMatchObject({ ok: true });
      const taken = await runner({ kind: 'process', pidfile: other, port })();
      expect(taken.ok).toBe(false);
      expect(taken.data.error).toMatch(new RegExp(`^port ${port} is held by pid ${process.pid} \\(`));
      const stopped = await runner({ kind: 'process', pidfile: gone, port })();
      expect(stopped.ok).toBe(false);
      expect(stopped.data.error).toContain('the watched process is not running');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    // Nothing listens: no conflict, whether the watched process runs or not (api-health's to report).
    expect(await runner({ kind: 'process', pidfile: other, port })()).toMatchObject({ ok: true });
    expect(await runner({ kind: 'process', pidfile: gone, port })()).toMatchObject({
      ok: true,
      data: { alive: false },
    });
  });

  it('needs a pidfile or a command line', () => {
    const r = hostProbeSchema.safeParse({ kind: 'process', name: 'p', every: '10s' });
    expect(r.error?.issues[0]?.message).toBe('give a pidfile, a cmdline (the exact argv), or both');
  });
});

describe('system probe', () => {
  it('measures CPU %, memory %, load average and disk use within sane ranges', async () => {
    for (const measure of ['cpu', 'memory', 'disk']) {
      const out = await runner({ kind: 'system', measure, path: tmpdir() })();
      expect(out.ok, measure).toBe(true);
      expect(out.value, measure).toBeGreaterThanOrEqual(0);
      expect(out.value, measure).toBeLessThanOrEqual(100);
    }
    for (const measure of ['load1', 'load5', 'load15']) {
      const out = await runner({ kind: 'system', measure })();
      expect(out.value, measure).toBeGreaterThanOrEqual(0);
      expect(out.data.load).toHaveLength(3);
    }
    const disk = await runner({ kind: 'system', measure: 'disk', path: tmpdir() })();
    expect(disk.data).toMatchObject({
      path: tmpdir(),
      usedBytes: expect.any(Number),
      availableBytes: expect.any(Number),
    });
  });

  it('fails above max, and on a disk path that does not exist, saying why', async () => {
    const full = await runner({ kind: 'system', measure: 'memory', max: '0' })();
    expect(full).toMatchObject({
      ok: false,
      data: { error: expect.stringMatching(/^memory % [\d.]+ is above 0$/) },
    });
    const missing = await runner({ kind: 'system', measure: 'disk', path: join(dir, 'no-such-mount') })();
    expect(missing).toMatchObject({ ok: false, data: { error: `${join(dir, 'no-such-mount')}: ENOENT` } });
  });
});
