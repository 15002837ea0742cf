import { chmod, lstat, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setEnvValue } from '../../src/remediate/service/env-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-env-write-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('setEnvValue', () => {
  it('replaces the file with only the value changed, bytes that are not UTF-8 included, and its mode kept', async () => {
    const file = join(dir, '.env');
    const before = Buffer.concat([
      Buffer.from('SECRET='),
      Buffer.from([0xff, 0xfe, 0x80]),
      Buffer.from('\r\nAPI_PORT=8000 # by find-port.sh\r\nTAIL=1'),
    ]);
    await writeFile(file, before);
    await chmod(file, 0o640);

    expect(await setEnvValue(file, 'API_PORT', '8001')).toEqual({ created: false });

    const after = await readFile(file);
    expect(after.equals(Buffer.from(before.toString('latin1').replace('8000', '8001'), 'latin1'))).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    expect(await readdir(dir)).toEqual(['.env']); // no temporary file left
  });

  it('creates a missing file readable by its owner only, and follows a symlink instead of replacing it', async () => {
    const created = join(dir, 'new.env');
    expect(await setEnvValue(created, 'API_PORT', '8002')).toEqual({ created: true });
    expect(await readFile(created, 'utf8')).toBe('API_PORT=8002\n');
    expect((await stat(created)).mode & 0o777).toBe(0o600);

    const link = join(dir, '.env');
    await symlink(created, link);
    await setEnvValue(link, 'API_PORT', '8003');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(created, 'utf8')).toBe('API_PORT=8003\n');
  });
});
