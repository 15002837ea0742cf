import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/**
 * A redis-server of the bench's own: INFO counters are server-wide, and the shared Redis serves
 * other people's tests too, so commands per alert are only meaningful on a server nobody else uses.
 */
export interface PrivateRedis {
  url: string;
  pid: number;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Persistence off, as prepare.sh runs the shared one, so both servers do the same work per command. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const killOnExit = () => {
    if (!exited(child)) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`bench: cannot start redis-server: ${err.message}`)));
    child.once('exit', (code) => reject(new Error(`bench: redis-server on port ${port} exited (${code})`)));
  });
  failed.catch(() => undefined);
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; !(await answers(url)); i++) {
    if (exited(child) || i > 100) {
      killOnExit();
      await failed;
      throw new Error(`bench: redis-server on port ${port} did not answer`);
    }
    await Promise.race([failed, new Promise((r) => setTimeout(r, 50))]);
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    pid: child.pid as number,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        process.off('exit', killOnExit);
        if (exited(child)) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      })),
  };
}
