import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fingerprint, type FileIdentity } from './identity.js';

/** Rotated files that are compressed cannot be read as text: they are not looked at. */
const compressed = /\.(gz|bz2|xz|zst|lz4|zip)$/;

/**
 * Where the content last read at `path` went while nobody watched: the same inode under a rotated
 * name (rename-and-create), or a copy with the same first line at least `minSize` long
 * (copytruncate). Rotated names are the file's name plus anything (`production.log.1`,
 * `production.log-20250708`) in the same folder.
 */
export async function findRotated(
  path: string,
  was: FileIdentity,
  minSize: number,
): Promise<{ path: string; size: number } | undefined> {
  const folder = dirname(path);
  const name = basename(path);
  let entries: string[];
  try {
    entries = await readdir(folder);
  } catch {
    return undefined;
  }
  const candidates = entries.filter((e) => e !== name && e.startsWith(name) && !compressed.test(e)).sort();
  let copy: { path: string; size: number } | undefined;
  for (const entry of candidates) {
    const candidate = join(folder, entry);
    try {
      const st = await stat(candidate, { bigint: true });
      if (!st.isFile() || st.size < BigInt(minSize)) continue;
      const handle = await open(candidate, 'r');
      const fp = await fingerprint(handle).finally(() => handle.close());
      if (fp !== was.fp) continue;
      const found = { path: candidate, size: Number(st.size) };
      if (String(st.dev) === was.dev && String(st.ino) === was.ino) return found;
      copy ??= found;
    } catch {
      // Gone or unreadable meanwhile: not the one.
    }
  }
  return copy;
}
