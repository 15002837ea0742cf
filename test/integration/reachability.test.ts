import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { checkTargets, wellFormedAddress } from '../../src/notify/reachability.js';
import { runCli } from '../support/cli.js';
import { captureLogs } from '../support/log-capture.js';
import { createTestEnv, DATABASE_URL, REDIS_URL, type TestEnv } from '../support/env.js';

let env: TestEnv | undefined;
let dir: string | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const log = createLogger({ level: 'silent' });

/** A world whose Slack has a channel without the bot and has lost another. */
async function world(): Promise<TestEnv> {
  const e = await createTestEnv();
  e.slack.declareChannel('C0GONE', { exists: false });
  e.slack.declareChannel('C0NOBOT', { member: false });
  e.slack.declareUsergroup({ id: 'S0ONCALL', handle: 'oncall' });
  return e;
}

const badTargets = {
  'db-team': { slack: 'C0GONE' },
  ops: { slack: 'C0NOBOT', mention: 'S0ONCALL' },
  pager: { slack: 'C0DB', mention: 'S0NOPE' },
  dba: { email: ['dba@example.test', 'bob@', 'Ann Lee <ann lee@example.test>'] },
  fine: { email: ['Ops <ops@example.test>'] },
};

const expected = [
  {
    target: 'db-team',
    verdict: 'unreachable',
    problem: 'Slack channel C0GONE not found (check the id; invite the bot with /invite @vigil)',
  },
  {
    target: 'ops',
    verdict: 'unreachable',
    problem: 'the bot is not in Slack channel C0NOBOT (invite the bot with /invite @vigil)',
  },
  { target: 'pager', verdict: 'unreachable', problem: 'Slack user group S0NOPE (mention) not found' },
  {
    target: 'dba',
    verdict: 'unreachable',
    problem: 'not a well-formed email address: "bob@", "Ann Lee <ann lee@example.test>"',
  },
];

describe('target reachability at start', () => {
  it('names every target that cannot be paged, and only those', async () => {
    env = await world();
    expect(await checkTargets(env.config({ targets: badTargets }), log)).toEqual(expected);
    env.slack.declareUsergroup({ id: 'S0DBA', handle: 'dba' });
    const good = { 'db-team': { slack: 'C0DB', mention: 'S0DBA' }, dba: { email: ['dba@example.test'] } };
    expect(await checkTargets(env.config({ targets: good }), log)).toEqual([]);
  });

  it('says "could not check" when Slack does not answer', async () => {
    env = await createTestEnv();
    const cfg = env.config({ targets: { 'db-team': { slack: 'C0DB' } } });
    await env.slack.close();
    const problems = await checkTargets(cfg, log);
    expect(problems.map((p) => [p.target, p.verdict])).toEqual([
      ['slack', 'unchecked'],
      ['db-team', 'unchecked'],
    ]);
    expect(problems[1]?.problem).toMatch(/^Slack did not answer about Slack channel C0DB \(/);
  });

  it('starts anyway, with each unreachable target in /healthz and the metric', async () => {
    env = await world();
    const logs = captureLogs('warn');
    const agent = env.agent(env.config({ targets: badTargets }), { log: logs.log });
    await agent.start();
    const lines = logs.records().filter((r) => r.component === 'targets');
    expect(lines.map((r) => [r.level, r.target, r.msg])).toEqual(
      expected.map((p) => [50, p.target, `target "${p.target}" cannot be paged: ${p.problem}`]),
    );
    const res = await fetch(`${agent.httpUrl}/healthz`);
    const body = (await res.json()) as { status: string; problems: Record<string, string> };
    expect(res.status).toBe(503);
    expect(body.problems['target.db-team']).toBe(
      'target "db-team" cannot be paged: Slack channel C0GONE not found (check the id; invite the bot with /invite @vigil)',
    );
    expect(Object.keys(body.problems).filter((k) => k.startsWith('target.'))).toEqual(
      expected.map((p) => `target.${p.target}`).sort(),
    );
    expect(await (await fetch(`${agent.httpUrl}/metrics`)).text()).toMatch(/^vigil_targets_unreachable 4$/m);
  });

  it('vigil doctor prints each one', async () => {
    env = await world();
    dir = mkdtempSync(join(tmpdir(), 'vigil-targets-'));
    const file = join(dir, 'vigil.yaml');
    writeFileSync(
      file,
      `database: { url: ${DATABASE_URL}, schema: ${env.schema} }
redis: { url: ${REDIS_URL} }
rules: { dir: ${resolve('rules')} }
slack: { token: xoxb-test, apiUrl: ${env.slack.url}, channel: C0ALERTS }
email: { smtpUrl: ${env.smtp.url}, from: vigil@example.test, to: [oncall@example.test] }
targets:
  db-team: { slack: C0GONE }
  dba: { email: [dba@example.test, bob@] }
`,
    );
    const out = await runCli(['doctor', '--config', file]);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(
      '✗ targets: target "db-team" cannot be paged: Slack channel C0GONE not found (check the id; invite the bot with /invite @vigil)\n' +
        '    target "dba" cannot be paged: not a well-formed email address: "bob@"\n',
    );
  }, 60_000);
});

describe('well-formed addresses', () => {
  it('takes plain and named addresses, refuses what no mail server would', () => {
    for (const ok of ['a@b', 'first.last+tag@mail.example.com', 'Ann Lee <ann@example.com>'])
      expect(wellFormedAddress(ok), ok).toBe(true);
    for (const bad of [
      '',
      'bob',
      'bob@',
      '@example.com',
      'a..b@example.com',
      'a b@example.com',
      'a@-x.com',
      'a@b@c',
    ])
      expect(wellFormedAddress(bad), bad).toBe(false);
  });
});
