import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** `*`, `?` and `[…]` of a file-name pattern as a RegExp (a leading dot is matched only by a dot). */
export function fileNamePattern(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        const body = pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        out += `[${body}]`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${pattern.startsWith('.') ? '' : '(?!\\.)'}${out}$`);
}

const hasWildcard = (p: string) => /[*?[]/.test(p);

/**
 * The files the patterns name now, sorted. A pattern without wildcards names its file whether or
 * not it exists yet (the tail waits for it); a folder that cannot be listed matches nothing and is
 * reported to `onError` (the caller logs it once).
 */
export async function expandPaths(
  patterns: readonly string[],
  onError: (folder: string, err: NodeJS.ErrnoException) => void,
): Promise<string[]> {
  const found = new Set<string>();
  for (const raw of patterns) {
    const pattern = resolve(raw);
    const name = basename(pattern);
    if (!hasWildcard(name)) {
      found.add(pattern);
      continue;
    }
    const folder = dirname(pattern);
    const re = fileNamePattern(name);
    try {
      for (const entry of await readdir(folder)) if (re.test(entry)) found.add(join(folder, entry));
    } catch (err) {
      onError(folder, err as NodeJS.ErrnoException);
    }
  }
  return [...found].sort();
}
