import { describe, expect, it } from 'vitest';
import { httpRequest, httpRequestSchema } from '../../src/remediate/actions/http-request.js';
import { restartContainerSchema } from '../../src/remediate/actions/restart-container.js';
import { runCommand, runCommandSchema } from '../../src/remediate/actions/run-command.js';
import { remediationActions } from '../../src/remediate/registry.js';
import { isProgram } from '../../src/remediate/process/spawn.js';

describe('command action specs', () => {
  it('fills run-command defaults and describes the exact command', () => {
    const spec = runCommandSchema.parse({
      action: 'run-command',
      program: '/usr/bin/systemctl',
      args: ['restart', 'helix'],
    });
    expect(spec).toEqual({
      action: 'run-command',
      program: '/usr/bin/systemctl',
      args: ['restart', 'helix'],
      timeout: 60_000,
      maxOutput: 8192,
      env: ['PATH'],
      okExitCodes: [0],
    });
    expect(runCommand.describe(spec)).toBe('run /usr/bin/systemctl restart helix (timeout 1m)');
    const scripted = runCommandSchema.parse({
      action: 'run-command',
      program: 'fix-zombie-tasks.sh',
      args: ['--older-than', '30 min'],
      cwd: '/opt/helix',
      timeout: '90s',
    });
    expect(runCommand.describe(scripted)).toBe(
      'run fix-zombie-tasks.sh --older-than "30 min" in /opt/helix (timeout 90s)',
    );
  });

  it('takes absolute paths and bare names as programs, nothing relative', () => {
    for (const ok of ['/usr/bin/systemctl', 'docker', 'find-port.sh', '/opt/helix/.venv/bin/python3', 'g++'])
      expect(isProgram(ok), ok).toBe(true);
    for (const bad of [
      './fix.sh',
      'scripts/fix.sh',
      '/opt/../bin/sh',
      '/opt/./x',
      '/opt//x',
      '/opt/x/',
      '-x',
      '.hidden',
      '',
    ])
      expect(isProgram(bad), bad).toBe(false);
  });

  it('refuses a relative cwd, an exit code out of range and unknown fields', () => {
    const base = { action: 'run-command', program: 'true' };
    expect(runCommandSchema.safeParse({ ...base, cwd: 'helix' }).success).toBe(false);
    expect(runCommandSchema.safeParse({ ...base, okExitCodes: [256] }).success).toBe(false);
    expect(runCommandSchema.safeParse({ ...base, shell: true }).success).toBe(false);
    expect(runCommandSchema.safeParse({ ...base, timeout: '0s' }).success).toBe(false);
  });

  it('fills restart-container defaults', () => {
    expect(
      restartContainerSchema.parse({ action: 'restart-container', container: 'helix_postgres' }),
    ).toMatchObject({
      docker: 'docker',
      timeout: 60_000,
      confirm: true,
      env: expect.arrayContaining(['PATH', 'DOCKER_HOST']),
    });
  });

  it('takes http and https webhooks only, a GET without a body, headers without line breaks', () => {
    const base = { action: 'http-request' };
    expect(httpRequestSchema.parse({ ...base, url: 'https://hooks.example.com/restart' })).toMatchObject({
      method: 'POST',
      headers: {},
      timeout: 10_000,
      maxResponse: 8192,
      followRedirects: false,
    });
    for (const url of ['file:///etc/passwd', 'ftp://example.com/', 'gopher://x/', 'not a url'])
      expect(httpRequestSchema.safeParse({ ...base, url }).success, url).toBe(false);
    expect(httpRequestSchema.safeParse({ ...base, url: 'http://x/', method: 'GET', body: 'x' }).success).toBe(
      false,
    );
    const crlf = { ...base, url: 'http://x/', headers: { 'x-a': 'b\r\nx-injected: 1' } };
    expect(httpRequestSchema.safeParse(crlf).success).toBe(false);
    expect(
      httpRequest.describe(httpRequestSchema.parse({ ...base, url: 'https://u:p@hooks.example.com/' })),
    ).toBe('POST https://hooks.example.com (timeout 10s)');
  });

  it('registers all three, and reports a target’s bad field with its path', () => {
    expect(remediationActions.names()).toMatch(/run-command.*restart-container.*http-request/);
    const parsed = remediationActions.targetsSchema().safeParse({
      pg: { action: 'restart-container', container: 'helix_postgres; rm -rf /' },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['pg', 'container']);
  });
});
