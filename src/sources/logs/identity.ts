import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** The fingerprint covers the first line, at most this many bytes of it. */
export const FINGERPRINT_BYTES = 256;

/** Which file's content a position belongs to: device, inode, and a fingerprint of its first line. */
export interface FileIdentity {
  dev: string;
  ino: string;
  fp: string;
}

/**
 * A hash of the file's first line (or of its first 256 bytes when that line is longer), so an inode
 * that a new file reuses, or a file truncated and written again, is not taken for the old content.
 * Undefined while the first line is still incomplete: nothing has been read from the file yet then.
 * It never changes once defined, which keeps event ids of the same content stable.
 */
export async function fingerprint(handle: FileHandle): Promise<string | undefined> {
  const head = Buffer.alloc(FINGERPRINT_BYTES);
  const { bytesRead } = await handle.read(head, 0, FINGERPRINT_BYTES, 0);
  const nl = head.subarray(0, bytesRead).indexOf(10);
  if (nl < 0 && bytesRead < FINGERPRINT_BYTES) return undefined;
  const covered = head.subarray(0, nl < 0 ? FINGERPRINT_BYTES : nl + 1);
  return createHash('sha1').update(covered).digest('hex').slice(0, 12);
}

export const sameIdentity = (a: FileIdentity, b: FileIdentity) =>
  a.dev === b.dev && a.ino === b.ino && a.fp === b.fp;
