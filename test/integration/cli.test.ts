import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebClient } from '@slack/web-api';
import nodemailer from 'nodemailer';
import { runCli, spawnCli, waitForLine } from '../support/cli.js';
import { createTestEnv, DATABASE_URL, REDIS_URL, type TestEnv } from '../support/env.js';

let dir: string | undefined;
let env: TestEnv | undefined;
afterEach(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  await env?.cleanup();
  env = undefined;
});

function configFile(text: string): string {
  const folder = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  dir = folder;
  const file = join(folder, 'vigil.yaml');
  writeFileSync(file, text);
  return file;
}

const validYaml = (extra = '') => `
database:
  url: ${DATABASE_URL}
redis:
  url: ${REDIS_URL}
rules:
  dir: ${resolve('rules')}
${extra}`;

describe('vigil CLI: startup problems are one clear message each, never a stack trace', () => {
  it('reports every problem of a bad vigil.yaml with file:line and path, exit code 2', async () => {
    const file = configFile(`database:
  url: ${DATABASE_URL}
  poolsize: 4
redis:
  url: not-a-url
http:
  port: "eighty"
`);
    const r = await runCli(['start', '--config', file]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/invalid configuration \(3 problems\)/);
    expect(r.stderr).toMatch(new RegExp(`${file}:3:3 database.poolsize: unknown key`));
    expect(r.stderr).toMatch(new RegExp(`${file}:5:8 redis.url: must be a URL`));
    expect(r.stderr).toMatch(new RegExp(`${file}:7:9 http.port: .*number`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('says a missing config file is missing and that the environment can supply the config, exit 2', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
    dir = folder;
    const r = await runCli(['start', '--config', join(folder, 'nope.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`nope.yaml: config file not found (${join(folder, 'nope.yaml')})`);
    expect(r.stderr).toMatch(/environment variables: DATABASE_URL and REDIS_URL/);
    expect(r.stderr).not.toMatch(/example/);
  });

  it('with no config file at all, names the file it looked for and the variables to set, exit 2', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
    dir = folder;
    const r = await runCli(['start'], { cwd: folder });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no config file: ${join(folder, 'vigil.yaml')} does not exist`);
    expect(r.stderr).toMatch(/SLACK_BOT_TOKEN with SLACK_CHANNEL/);
    expect(r.stderr).toMatch(/^\s+DATABASE_URL: not set$/m);
    expect(r.stderr).toMatch(/^\s+REDIS_URL: not set$/m);
    expect(r.stderr).not.toMatch(/example|\n\s+at /);
  });

  it('a taken HTTP port is one line naming the port and VIGIL_HTTP_PORT, exit 1', async () => {
    env = await createTestEnv();
    const blocker = createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
    const { port } = blocker.address() as AddressInfo;
    try {
      const file = configFile(
        validYaml(`http:\n  port: ${port}\n`).replace(
          `url: ${DATABASE_URL}`,
          `url: ${DATABASE_URL}\n  schema: ${env.schema}`,
        ),
      );
      const r = await runCli(['start', '--config', file], { env: { VIGIL_REDIS_PREFIX: env.prefix } });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([
        `vigil: HTTP port ${port} on 127.0.0.1 is already in use — stop what holds it, or choose another port with VIGIL_HTTP_PORT or http.port`,
      ]);
    } finally {
      await new Promise((res) => blocker.close(res));
    }
  });

  it('names the Redis URL and the fix when Redis is unreachable', async () => {
    const file = configFile(validYaml());
    const r = await runCli(['start', '--config', file], { env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /cannot reach Redis at redis:\/\/127\.0\.0\.1:1.*ECONNREFUSED.*docker compose up -d redis/,
    );
  });

  it('names the PostgreSQL URL (password hidden) and the fix when PostgreSQL is unreachable', async () => {
    const file = configFile(validYaml());
    const r = await runCli(['start', '--config', file], {
      env: { DATABASE_URL: 'postgres://vigil:s3cret@127.0.0.1:1/postgres' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot reach PostgreSQL at postgres:\/\/vigil:\*\*\*@127\.0\.0\.1:1\/postgres/);
    expect(r.stderr).not.toContain('s3cret');
    expect(r.stderr).toContain('DATABASE_URL');
  });

  it('has --help for every command', async () => {
    for (const cmd of ['start', 'migrate', 'doctor', 'demo']) {
      const r = await runCli([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: vigil ${cmd}`);
    }
  });
});

describe('vigil CLI against the real services', () => {
  it('migrate applies once, then says the database is up to date', async () => {
    env = await createTestEnv();
    const file = configFile(
      validYaml().replace(`url: ${DATABASE_URL}`, `url: ${DATABASE_URL}\n  schema: ${env.schema}`),
    );
    const first = await runCli(['migrate', '--config', file]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('001_init.sql');
    const second = await runCli(['migrate', '--config', file]);
    expect(second.stdout).toContain('up to date');
  });

  it('doctor checks every dependency and says what is wrong', async () => {
    env = await createTestEnv();
    const file =
      configFile(`${validYaml().replace(`url: ${DATABASE_URL}`, `url: ${DATABASE_URL}\n  schema: ${env.schema}`)}
slack:
  token: xoxb-test
  apiUrl: ${env.slack.url}
  channel: C0ALERTS
email:
  smtpUrl: ${env.smtp.url}
  from: vigil@example.test
  to: [oncall@example.test]
`);
    // Pending migrations are not a problem: `vigil start` applies them.
    const before = await runCli(['doctor', '--config', file]);
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(
      /✓ postgres: .*\d migration\(s\) pending \(001_init\.sql.*\): `vigil start` applies them, or run `vigil migrate` first/,
    );
    expect(before.stdout).toContain('all good');
    expect(before.stdout).toMatch(/✓ redis: .*noeviction/);
    expect(before.stdout).toMatch(/✓ slack: /);
    expect(before.stdout).toMatch(/✓ email: /);
    await runCli(['migrate', '--config', file]);
    const after = await runCli(['doctor', '--config', file]);
    expect(after.stdout).toContain('all good');
    expect(after.code).toBe(0);
  });

  const agentYaml = (e: TestEnv, extra = '') => `
database:
  url: ${DATABASE_URL}
  schema: ${e.schema}
redis:
  url: ${REDIS_URL}
  prefix: ${e.prefix}
http:
  port: 0
rules:
  dir: ${resolve('rules')}
  vars:
    HELIX_API_URL: ${e.helix.url}
    HELIX_HEALTH_EVERY: 100ms
    HELIX_HEALTH_TIMEOUT: 80ms
${extra}`;

  async function startedAgent(extra = '') {
    env = await createTestEnv();
    const child = spawnCli(['start', '--config', configFile(agentYaml(env, extra))]);
    const exited = new Promise<number | null>((res) => child.once('exit', res));
    await waitForLine(child, /"msg":"agent started"/);
    await env.helix.waitForRequests(2);
    return { child, exited };
  }

  it('start runs until SIGTERM, then shuts down cleanly with exit code 0', async () => {
    const { child, exited } = await startedAgent();
    const stopped = waitForLine(child, /"msg":"agent stopped"/);
    child.kill('SIGTERM');
    await stopped;
    expect(await exited).toBe(0);
  });

  it('SIGINT works the same way', async () => {
    const { child, exited } = await startedAgent();
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('a second signal during shutdown forces the exit (code 130)', async () => {
    const { child, exited } = await startedAgent();
    const forcing = waitForLine(child, /"msg":"second signal: forcing exit"/);
    child.kill('SIGTERM');
    child.kill('SIGINT');
    await forcing;
    expect(await exited).toBe(130);
  });

  it('a shutdown that outlives its deadline is cut short with exit code 1', async () => {
    const { child, exited } = await startedAgent('shutdown:\n  deadline: 1ms\n');
    const cut = waitForLine(child, /"msg":"shutdown deadline passed: forcing exit"/);
    child.kill('SIGTERM');
    await cut;
    expect(await exited).toBe(1);
  });
});

describe('vigil rules', () => {
  it('validate lists the rules it checked, exit 0', async () => {
    const r = await runCli(['rules', 'validate', '--dir', 'rules']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /✓ api-health \[critical\] consecutive count=3 .*ack SLA 5m, probe helix-api-health every 5s/,
    );
  });

  it('validate reports every problem of every file with file:line and field, exit 2', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
    dir = folder;
    writeFileSync(
      join(folder, 'a.yaml'),
      'id: a\ntitle: A\nseverity: urgent\nackSla: 5m\nmatch: { name: x }\ncondition: { kind: consecutive, count: 3 }\n',
    );
    writeFileSync(
      join(folder, 'b.yaml'),
      'id: b\ntitle: B\nseverity: info\nackSla: soon\nmatch: { name: x }\ncondition: { kind: consecutive, count: 3 }\n',
    );
    const r = await runCli(['rules', 'validate', '--dir', folder]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a\.yaml:3:11 severity: /);
    expect(r.stderr).toMatch(/b\.yaml:4:9 ackSla: invalid duration "soon"/);
  });

  it('validate refuses a rule no configured source can feed, exit 2', async () => {
    const file = configFile(validYaml('sources:\n  - kind: probes\n'));
    const rules = join(dir as string, 'rules');
    mkdirSync(rules);
    writeFileSync(
      join(rules, 'cpu.yaml'),
      'id: cpu\ntitle: CPU\nseverity: warning\nackSla: 30m\nprobe: { kind: system, name: cpu, measure: cpu, max: 80, every: 10s }\ncondition: { kind: consecutive, count: 3 }\n',
    );
    const r = await runCli(['rules', 'validate', '--config', file, '--dir', rules]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'rule "cpu": no configured source runs its system probe "cpu" (needs: host-probes; sources: probes (probes))',
    );
  });
  it('validate refuses a log rule whose match.name no log source has, with file:line:col', async () => {
    const file = configFile(
      validYaml(
        'sources:\n  - kind: log\n    name: app\n    paths: [/var/log/app/*.log]\n    signals:\n      - { name: svc-traceback, match: Traceback }\n      - { name: svc-error, match: ERROR }\n',
      ),
    );
    const rules = join(dir as string, 'rules');
    mkdirSync(rules);
    writeFileSync(
      join(rules, 'tracebacks.yaml'),
      'id: tracebacks\ntitle: Tracebacks\nseverity: warning\nackSla: 30m\nmatch: { source: log, name: svc-tracebak }\ncondition: { kind: consecutive, count: 1 }\n',
    );
    const r = await runCli(['rules', 'validate', '--config', file, '--dir', rules]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${join(rules, 'tracebacks.yaml')}:5:29 match.name: no log source has a signal named "svc-tracebak" (signals: svc-traceback, svc-error)`,
    );
  });
});

describe('vigil stand-ins (the old name of vigil receivers)', () => {
  it('takes Slack messages and mail for an agent of your own, shows each, and stops on SIGTERM', async () => {
    const child = spawnCli(['stand-ins', '--slack-port', '0', '--smtp-port', '0', '--web-port', '0']);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const point = await waitForLine(child, /Point an agent at them:/);
    const slackUrl = /SLACK_API_URL=(\S+)/.exec(point)?.[1] ?? '';
    const smtpUrl = /SMTP_URL=(\S+)/.exec(point)?.[1] ?? '';
    const posted = waitForLine(child, /📣 \[1\] C0OPS: disk full/);
    const slack = new WebClient('xoxb-mine', { slackApiUrl: slackUrl, retryConfig: { retries: 0 } });
    await slack.chat.postMessage({ channel: 'C0OPS', text: 'disk full' });
    await posted;
    const mailed = waitForLine(child, /✉️ {2}Email to me@example\.com: disk full/);
    const mail = nodemailer.createTransport(smtpUrl);
    await mail.sendMail({ from: 'vigil@example.com', to: 'me@example.com', subject: 'disk full', text: '.' });
    mail.close();
    await mailed;
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
