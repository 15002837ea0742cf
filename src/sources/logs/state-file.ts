import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { VigilError } from '../../errors.js';

/** Where reading a file stopped: everything before `offset` has been turned into events. */
export const positionSchema = z
  .object({
    path: z.string(),
    dev: z.string(),
    ino: z.string(),
    /** Fingerprint of the file's first line: an inode reused by a new file is not taken for the old one. */
    fp: z.string(),
    offset: z.number().int().min(0),
    /** `offset` is inside an over-long line already reported: skip to the next newline. */
    skip: z.boolean().default(false),
  })
  .strict();

export type Position = z.output<typeof positionSchema>;

const stateSchema = z.object({ version: z.literal(1), files: z.array(positionSchema) }).strict();

/** Reads the saved positions: undefined when there is no file yet, an error naming a damaged one. */
export async function loadPositions(file: string): Promise<Position[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VigilError('E_LOG_STATE', `${file}: cannot read the log positions: ${(err as Error).message}`);
  }
  let parsed;
  try {
    parsed = stateSchema.safeParse(JSON.parse(text));
  } catch (err) {
    throw new VigilError('E_LOG_STATE', `${file}: not JSON (${(err as Error).message})`);
  }
  if (!parsed.success)
    throw new VigilError(
      'E_LOG_STATE',
      `${file}: not a log positions file (${parsed.error.issues[0]?.message})`,
    );
  return parsed.data.files;
}

/**
 * Replaces the file in one step (temp file, fsync, rename, fsync of the folder), so a crash leaves
 * either the old positions or the new ones, never half of each.
 */
export async function savePositions(file: string, positions: readonly Position[]): Promise<void> {
  const folder = dirname(file);
  await mkdir(folder, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify({ version: 1, files: positions })}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  const dir = await open(folder, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
