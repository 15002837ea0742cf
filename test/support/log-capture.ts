import { Writable } from 'node:stream';
import { parse } from 'yaml';
import { createLogger, type Logger } from '../../src/log.js';

export interface LogCapture {
  log: Logger;
  /** Every line written so far, parsed. */
  records(): Record<string, unknown>[];
  /** Raw JSON lines, for checks a parsed object cannot show (duplicate keys). */
  lines: string[];
  /** Resolves with the first record (already written or to come) that matches. */
  waitFor(match: (r: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

/** A real pino logger writing JSON lines into memory. */
export function captureLogs(level = 'debug'): LogCapture {
  const lines: string[] = [];
  const waiters: Array<{
    match: (r: Record<string, unknown>) => boolean;
    resolve: (r: Record<string, unknown>) => void;
  }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(line);
        const record = JSON.parse(line) as Record<string, unknown>;
        for (const w of [...waiters]) {
          if (!w.match(record)) continue;
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(record);
        }
      }
      done();
    },
  });
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    log: createLogger({ level, destination }),
    lines,
    records,
    waitFor: (match) =>
      new Promise((resolve) => {
        const found = records().find(match);
        if (found) resolve(found);
        else waiters.push({ match, resolve });
      }),
  };
}

/** The keys a JSON line repeats within one object (YAML, a superset of JSON, refuses them). */
export function duplicateKeys(line: string): string | undefined {
  try {
    parse(line, { uniqueKeys: true });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
