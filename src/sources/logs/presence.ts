import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Health } from '../../health.js';
import type { Logger } from '../../log.js';
import { fileNamePattern } from './glob.js';

type Presence = 'found' | 'no-file' | 'no-folder';

/**
 * Says when a configured path leads to no file. A file not written yet is normal (info, once per
 * path, until one appears). A folder that does not exist is more likely a typo or a mount that did
 * not come up, and the source then sees nothing at all: a warning, and /healthz is degraded naming
 * the folder until it appears. A path that had a file and lacks one for a moment (rotation by
 * rename and create) is not reported.
 */
export class PathPresence {
  private readonly paths: ReadonlyArray<{ raw: string; folder: string; name: RegExp }>;
  /** What was last said about a path that leads to no file; cleared when one appears. */
  private readonly told = new Map<string, Exclude<Presence, 'found'>>();
  private readonly everFound = new Set<string>();

  constructor(
    patterns: readonly string[],
    private readonly component: string,
    private readonly log: Logger,
    private readonly health: Health,
  ) {
    this.paths = patterns.map((raw) => {
      const path = resolve(raw);
      return { raw, folder: dirname(path), name: fileNamePattern(basename(path)) };
    });
  }

  /** `present`: every path the last look found a file at (readable or not). */
  async update(present: Iterable<string>): Promise<void> {
    const found = [...present];
    const missing: string[] = [];
    for (const { raw, folder, name } of this.paths) {
      const matched = found.some((p) => dirname(p) === folder && name.test(basename(p)));
      const now: Presence = matched ? 'found' : (await isFolder(folder)) ? 'no-file' : 'no-folder';
      const told = this.told.get(raw);
      if (now === 'no-folder') missing.push(folder);
      if (now === told) continue;
      if (now === 'no-folder') {
        this.log.warn({ path: raw, folder }, `folder ${folder} does not exist; waiting for it`);
        this.told.set(raw, now);
      } else if (now === 'no-file' && (told === 'no-folder' || !this.everFound.has(raw))) {
        this.log.info({ path: raw }, 'no file matches this path yet; waiting for it');
        this.told.set(raw, now);
      } else if (now === 'found') {
        this.everFound.add(raw);
        if (this.told.delete(raw)) this.log.info({ path: raw }, 'a file matches this path now; following it');
      }
    }
    const reason = missing.length ? `folder does not exist: ${[...new Set(missing)].join(', ')}` : undefined;
    this.health.set(this.component, reason);
  }
}

/** Whether the folder is there; one that cannot be looked at (EACCES) is reported by the follower. */
async function isFolder(folder: string): Promise<boolean> {
  try {
    return (await stat(folder)).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== 'ENOENT' && code !== 'ENOTDIR';
  }
}
