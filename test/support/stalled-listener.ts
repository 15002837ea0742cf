import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';

/**
 * A TCP port whose connects hang: a listener in a child process, stopped (SIGSTOP), its accept
 * backlog filled. The kernel then drops further SYNs, as for a host that went dark.
 */
export async function startStalledListener(): Promise<{ port: number; close(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      "const s = require('net').createServer(); s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => console.log(s.address().port))",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve) =>
    child.stdout.once('data', (d) => resolve(Number(String(d)))),
  );
  child.kill('SIGSTOP');
  const fillers: Socket[] = [];
  // Connects that complete fill the backlog; the first that does not means it is full.
  for (;;) {
    const s = connect({ port, host: '127.0.0.1' });
    fillers.push(s);
    const connected = await new Promise<boolean>((resolve) => {
      s.once('connect', () => resolve(true));
      setTimeout(() => resolve(false), 200);
    });
    if (!connected) break;
  }
  return {
    port,
    async close() {
      for (const s of fillers) s.destroy();
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    },
  };
}
