import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const shipped = fileURLToPath(new URL('../../rules', import.meta.url));
const demoOnly = fileURLToPath(new URL('./rules', import.meta.url));

/**
 * The demo's rules folder: the shipped rules as they are, plus the demo's own (api-process-health,
 * which restarts the demo's HELIX API process), so the shipped rules need no target this machine has.
 */
export async function demoRulesDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const from of [shipped, demoOnly])
    for (const name of await readdir(from))
      if (/\.ya?ml$/.test(name)) await copyFile(join(from, name), join(dir, name));
  return dir;
}
