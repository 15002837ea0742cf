import { open } from 'node:fs/promises';
import { eventSchema } from '../contracts/event.js';
import { ConfigError, errorMessage } from '../errors.js';
import type { Timed } from './replay.js';

/** Bytes read so far of the whole file: drives the progress bar. */
export type Progress = (done: number, total: number) => void;

const CHUNK = 1 << 20;

/** The file's complete lines (the last one may lack its newline), chunk by chunk, as bytes. */
export async function* chunksOf(file: string, progress?: Progress): AsyncGenerator<Buffer> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read (${errorMessage(err)})`]);
  }
  try {
    const total = (await handle.stat()).size;
    let done = 0;
    let rest = Buffer.alloc(0);
    const buf = Buffer.alloc(CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      done += bytesRead;
      progress?.(done, total);
      const data = Buffer.concat([rest, buf.subarray(0, bytesRead)]);
      const end = data.lastIndexOf(10) + 1;
      rest = Buffer.from(data.subarray(end));
      if (end > 0) yield data.subarray(0, end);
    }
    if (rest.length) yield Buffer.concat([rest, Buffer.from('\n')]);
  } finally {
    await handle.close();
  }
}

export interface BadLine {
  where: string;
  reason: string;
}

/**
 * Reads recorded events, one JSON event per line (the shape of contracts/event.ts). A bad line is
 * reported with file:line and why, counted and skipped: one broken line must not hide the rest.
 * Returns the events in time order (a stable sort: equal times keep the file's order).
 */
export async function readEvents(
  file: string,
  progress?: Progress,
): Promise<{ events: Timed[]; bad: BadLine[] }> {
  const events: Timed[] = [];
  const bad: BadLine[] = [];
  let line = 0;
  for await (const chunk of chunksOf(file, progress)) {
    for (const text of chunk.toString('utf8').split('\n').slice(0, -1)) {
      line++;
      if (text.trim() === '') continue;
      const where = `${file}:${line}`;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        bad.push({ where, reason: `not JSON (${errorMessage(err)})` });
        continue;
      }
      const parsed = eventSchema.safeParse(json);
      if (!parsed.success) {
        const reason = parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`);
        bad.push({ where, reason: reason.join('; ') });
        continue;
      }
      events.push({ event: parsed.data, atMs: Date.parse(parsed.data.at) });
    }
  }
  return { events: inTimeOrder(events), bad };
}

export const inTimeOrder = (events: Timed[]): Timed[] => events.sort((a, b) => a.atMs - b.atMs);
