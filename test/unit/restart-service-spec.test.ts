import { describe, expect, it } from 'vitest';
import { restartService } from '../../src/remediate/actions/restart-service.js';
import { remediationConfigSchema } from '../../src/remediate/schema.js';

const target = (fields: Record<string, unknown>) =>
  remediationConfigSchema.safeParse({
    targets: {
      'helix-api': {
        action: 'restart-service',
        cwd: '/srv/helix',
        command: ['python3', 'start_system.py'],
        ...fields,
      },
    },
  });

const problems = (fields: Record<string, unknown>) =>
  target(fields).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

describe('restart-service targets in vigil.yaml', () => {
  it('fills the seed SOP’s defaults', () => {
    expect(target({}).data?.targets['helix-api']).toEqual({
      action: 'restart-service',
      cwd: '/srv/helix',
      command: ['python3', 'start_system.py'],
      envFile: '.env',
      portKey: 'API_PORT',
      ports: { from: 8000, to: 8099 },
      health: { path: '/api/v1/health', host: '127.0.0.1', within: 30_000, expectStatus: [200] },
      grace: 10_000,
      sshPort: 22,
      env: ['PATH', 'HOME', 'LANG'],
    });
    expect(
      target({ sshPort: false, grace: '3s', ports: { from: '8010', to: 8020 } }).data?.targets['helix-api'],
    ).toMatchObject({ sshPort: false, grace: 3000, ports: { from: 8010, to: 8020 } });
  });

  it('says what is wrong, with the path', () => {
    expect(problems({ cwd: 'helix' })).toEqual(['targets.helix-api.cwd: an absolute directory']);
    expect(problems({ command: [] })).toEqual(['targets.helix-api.command: the program, then its arguments']);
    expect(problems({ ports: { from: 8099, to: 8000 } })).toEqual([
      'targets.helix-api.ports.to: `from` must not be above `to`',
    ]);
    expect(problems({ health: { path: 'health' } })).toEqual([
      'targets.helix-api.health.path: a path starting with "/"',
    ]);
    expect(problems({ env: ['PATH', 'A-B'] })).toEqual([
      'targets.helix-api.env.1: an environment variable name (letters, digits, "_")',
    ]);
    expect(problems({ pattern: 'start_system' })?.[0]).toMatch(
      /^targets\.helix-api: Unrecognized key: "pattern"/,
    );
  });

  it('describes a run in one line, without side effects', () => {
    const spec = target({ pidfile: 'helix.pid' }).data?.targets['helix-api'];
    expect(restartService.describe(restartService.schema.parse(spec))).toBe(
      'if port 22 (SSH) is listening: stop ["python3","start_system.py"] in /srv/helix (pidfile helix.pid, else exact ' +
        'command line; SIGTERM, SIGKILL after 10s), start ["python3","start_system.py"] on API_PORT from .env or a ' +
        'free port in 8000–8099, expect /api/v1/health healthy within 30s',
    );
  });
});
