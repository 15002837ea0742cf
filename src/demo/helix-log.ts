import { appendFile, writeFile } from 'node:fs/promises';

/**
 * HELIX's production.log in the demo: Python logging's format ("2025-07-08 11:17:02,123 INFO
 * helix.orchestrator: …"), with the orchestrator's poll logged every 5 s as the real one does, so
 * the heartbeat rule sees a live orchestrator. Lines are appended whole, as Python's handler does.
 */
export interface HelixLog {
  path: string;
  write(level: 'INFO' | 'WARNING' | 'ERROR', logger: string, message: string): Promise<void>;
  /** Stops (false) or resumes (true) the orchestrator's polls: the heartbeat goes silent or comes back. */
  polling(on: boolean): void;
  close(): Promise<void>;
}

/** Python logging's asctime: local time, no zone, `YYYY-MM-DD HH:MM:SS,mmm` (read back as local time). */
export function stamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`
  );
}

export async function startHelixLog(path: string, opts: { pollEvery?: number } = {}): Promise<HelixLog> {
  await writeFile(path, `${stamp(new Date())} INFO helix.main: HELIX started (Vigil demo simulator)\n`);
  // One line after the other, in order; a failed write does not stop the next ones.
  let writes: Promise<void> = Promise.resolve();
  const write: HelixLog['write'] = (level, logger, message) => {
    const next = writes.then(() => appendFile(path, `${stamp(new Date())} ${level} ${logger}: ${message}\n`));
    writes = next.catch(() => undefined);
    return next;
  };
  let polls = 0;
  // A lost poll line is what the heartbeat rule is for: it says so itself.
  const poll = () =>
    void write('INFO', 'helix.orchestrator', `poll #${++polls}: tasks table checked`).catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const polling = (on: boolean) => {
    clearInterval(timer);
    timer = undefined;
    if (!on) return;
    poll();
    timer = setInterval(poll, opts.pollEvery ?? 5000);
  };
  polling(true);
  return {
    path,
    write,
    polling,
    close: async () => {
      polling(false);
      await writes;
    },
  };
}
