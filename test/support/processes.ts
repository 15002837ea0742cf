import { readFileSync } from 'node:fs';
import { readProcStat } from '../../src/sources/probes/procfs.js';
import { until } from './quiet.js';

/** Running: it exists and is not a zombie nobody reaped yet (readProcStat counts those as gone). */
export async function isRunning(pid: number): Promise<boolean> {
  return (await readProcStat(pid)) !== undefined;
}

/** A killed process takes a moment to die and says nothing when it has: look until it has. */
export function untilGone(pid: number): Promise<void> {
  return until(`process ${pid} to be gone`, async () => !(await isRunning(pid)), 5000);
}

/** The pids a fixture wrote to `file` ("123 456"), once it has. */
export async function pidsIn(file: string): Promise<number[]> {
  let text = '';
  await until(`pids in ${file}`, () => {
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return false;
    }
    return text.trim() !== '';
  });
  return text.trim().split(' ').map(Number);
}

/** For afterEach: whatever a failed test left running goes. */
export function killAll(pids: number[]): void {
  for (const pid of pids.splice(0))
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // ESRCH: gone already, as it should be.
    }
}
