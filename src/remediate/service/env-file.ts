import { randomBytes } from 'node:crypto';
import { open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readEnvText, withEnvValue } from '../../config/env-file.js';

/**
 * Sets `key=value` in the dotenv file atomically: the new text goes to a temporary file in the same
 * directory, is flushed to disk, gets the old file's mode, and replaces the file by rename, so the
 * service (or a probe) never reads half a file and a crash leaves the old one or the new one. A
 * symlinked file is followed: its target is replaced, the link stays. Says whether the file is new.
 */
export async function setEnvValue(file: string, key: string, value: string): Promise<{ created: boolean }> {
  const target = await realpath(file).catch(() => file);
  const text = await readEnvText(target);
  // A new .env may hold secrets later: only its owner reads it.
  const mode = text === undefined ? 0o600 : (await stat(target)).mode & 0o7777;
  const next = withEnvValue(text ?? '', key, value);
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    try {
      await handle.writeFile(next, 'latin1');
      await handle.chmod(mode); // open's mode is cut by the umask
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncDir(dirname(target));
  return { created: text === undefined };
}

/** The rename itself is durable only once the directory is flushed. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
