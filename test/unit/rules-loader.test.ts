import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadRules } from '../../src/rules/loader.js';
import { scheduledProbes } from '../../src/sources/probes/scheduler.js';

const repoRules = fileURLToPath(new URL('../../rules/', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

/** A valid rule with its own HTTP probe. */
function probeRule(id: string, probe: string): string {
  return `id: ${id}
title: ${id} is down
severity: high
ackSla: 10m
probe:
  kind: http
  name: ${probe}
  url: http://127.0.0.1:8015/health
  every: 5s
condition:
  kind: consecutive
  count: 3
`;
}

describe("the repository's default HELIX rules", () => {
  it('load api-health: 3 consecutive failures, ack SLA 5 min, probed every 5 s by default', () => {
    const set = loadRules(repoRules, { HELIX_API_URL: 'http://helix.internal:8015' }, {});
    const rule = set.rules.find((r) => r.id === 'api-health');
    expect(rule).toBeDefined();
    expect(rule!.severity).toBe('critical');
    expect(rule!.category).toBe('availability');
    expect(rule!.condition).toEqual({ kind: 'consecutive', count: 3, resolveAfter: 1 });
    expect(rule!.ackSla).toBe(300_000);
    expect(rule!.groupBy).toEqual(['service']);
    expect(rule!.notify).toEqual(['slack', 'email']);
    expect(rule!.probe).toMatchObject({
      kind: 'http',
      name: 'helix-api-health',
      url: 'http://helix.internal:8015/api/v1/health',
      every: 5000,
      timeout: 2000,
      expectStatus: [200],
      expectJson: { status: 'healthy' },
      labels: { service: 'helix-api' },
    });
    // The rule's probe is scheduled: it is in the set's probes.
    expect(set.probes.map((p) => p.name)).toContain('helix-api-health');
  });

  it('falls back to the documented defaults when no variable is given', () => {
    const set = loadRules(repoRules, {}, {});
    const probe = set.probes.find((p) => p.name === 'helix-api-health');
    expect(probe).toMatchObject({ url: 'http://127.0.0.1:8015/api/v1/health', every: 5000 });
  });

  it('takes rules.vars first, then only the environment variables named for rules', () => {
    const health = (set: ReturnType<typeof loadRules>) =>
      set.probes.find((p) => p.name === 'helix-api-health');
    // HELIX_* are not named for rules: the environment's values are not read, the defaults apply.
    const notForRules = loadRules(
      repoRules,
      {},
      { HELIX_HEALTH_EVERY: '10s', HELIX_API_URL: 'http://env:1' },
    );
    expect(health(notForRules)).toMatchObject({ every: 5000, url: 'http://127.0.0.1:8015/api/v1/health' });
    const fromVars = loadRules(
      repoRules,
      { HELIX_HEALTH_EVERY: '1s', HELIX_HEALTH_TIMEOUT: '500ms' },
      { HELIX_HEALTH_EVERY: '10s' },
    );
    expect(health(fromVars)?.every).toBe(1000);
  });

  it('refuses a rule that reads an environment variable not named for rules (a secret in a probe URL)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-env-'));
    try {
      writeFileSync(
        join(dir, 'leak.yaml'),
        `id: leak
title: leak
severity: info
ackSla: 5m
probe:
  kind: http
  name: leak
  url: https://collector.example/\${SLACK_BOT_TOKEN}
  every: 10s
condition: { kind: consecutive, count: 1 }
`,
      );
      const env = { SLACK_BOT_TOKEN: 'xoxb-secret', VIGIL_RULE_HOST: 'h' };
      expect(() => loadRules(dir, {}, env)).toThrow(
        /leak\.yaml:8:8 probe\.url: \$\{SLACK_BOT_TOKEN\} is not set \(rule files read rules\.vars and environment variables starting with VIGIL_RULE_ only: add SLACK_BOT_TOKEN to rules\.vars\)/,
      );
      writeFileSync(
        join(dir, 'leak.yaml'),
        readFileSync(join(dir, 'leak.yaml'), 'utf8').replace('SLACK_BOT_TOKEN', 'VIGIL_RULE_HOST'),
      );
      expect(loadRules(dir, {}, env).probes[0]).toMatchObject({ url: 'https://collector.example/h' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('returns a frozen set: a running engine cannot have its rules changed under it', () => {
    const set = loadRules(repoRules, {}, {});
    const rule = set.rules.find((r) => r.id === 'api-health')!;
    expect(() => {
      (rule.condition as { count: number }).count = 1;
    }).toThrow(TypeError);
    expect(() => {
      (set.rules as unknown[]).push(rule);
    }).toThrow(TypeError);
    expect((rule.condition as { count: number }).count).toBe(3);
  });
});

describe('loadRules on a folder with mistakes', () => {
  it('reports every problem of every file at once, with file:line:col and the field', () => {
    const bad = write(
      'bad.yaml',
      `id: Bad_Id
title: Broken rule
severity: urgent
ackSla: soon
match:
  name: helix-api-health
condition:
  kind: consecutive
  count: 0
`,
    );
    const typo = write(
      'typo.yml',
      `id: typo
title: Typo
severity: info
ackSla: 1h
match:
  name: x
  lables: {a: b}
condition:
  kind: consecutive
  count: 2
`,
    );
    const broken = write('broken.yaml', `id: broken\ntitle: [unclosed\nseverity: info\n`);
    const unset = write(
      'unset.yaml',
      probeRule('unset', 'p-unset').replace('http://127.0.0.1:8015', '${NOPE}'),
    );
    write('good.yaml', probeRule('good', 'p-good'));
    write('README.md', 'not a rule: ignored');

    const problems = problemsOf(() => loadRules(dir, {}, {}));
    const expected: Array<[string, RegExp]> = [
      [`${bad}:1:5 id: `, /lower-case letters, digits and "-"/],
      [`${bad}:3:11 severity: `, /critical.*high.*warning.*info/],
      [`${bad}:4:9 ackSla: `, /invalid duration "soon"/],
      [`${bad}:9:10 condition.count: `, />=\s*1/],
      [`${typo}:7:3 match.lables: `, /^unknown key$/],
      [`${unset}:8:8 probe.url: `, /\$\{NOPE\} is not set/],
    ];
    for (const [prefix, message] of expected) {
      const lines = problems.filter((p) => p.startsWith(prefix));
      expect(lines, `one problem starting with ${prefix}`).toHaveLength(1);
      expect(lines[0]!.slice(prefix.length)).toMatch(message);
    }
    const yamlErrors = problems.filter((p) => p.startsWith(broken));
    expect(yamlErrors.length).toBeGreaterThanOrEqual(1);
    for (const p of yamlErrors) expect(p).toMatch(/:\d+:\d+: invalid YAML: /);
    // Nothing else: no noise about the good file, no second line for the same mistake.
    expect(problems).toHaveLength(expected.length + yamlErrors.length);
  });

  it('rejects a duplicate rule id, naming both files', () => {
    const first = write('a.yaml', probeRule('api', 'probe-a'));
    const second = write('b.yaml', probeRule('api', 'probe-b'));
    const problems = problemsOf(() => loadRules(dir, {}, {}));
    expect(problems).toEqual([`${second}:1:5 id: rule "api" is already defined at ${first}:1:5`]);
  });

  it('reads several rules from one file, separated by ---, each placed at its own line', () => {
    const file = write('many.yaml', `${probeRule('api', 'probe-a')}---\n${probeRule('api', 'probe-b')}`);
    const problems = problemsOf(() => loadRules(dir, {}, {}));
    const secondAt = probeRule('api', 'probe-a').split('\n').length + 1; // after the first rule and its ---
    expect(problems).toEqual([`${file}:${secondAt}:5 id: rule "api" is already defined at ${file}:1:5`]);
    write('many.yaml', `${probeRule('api-a', 'probe-a')}---\n${probeRule('api-b', 'probe-b')}\n---\n`);
    expect(loadRules(dir, {}, {}).rules.map((r) => r.id)).toEqual(['api-a', 'api-b']);
  });

  it('rejects a duplicate probe name, naming both files', () => {
    const first = write('a.yaml', probeRule('rule-a', 'shared-probe'));
    const second = write('b.yaml', probeRule('rule-b', 'shared-probe'));
    const problems = problemsOf(() => loadRules(dir, {}, {}));
    expect(problems).toEqual([`${second}:7:9 probe.name: "shared-probe" is already defined at ${first}:7:9`]);
  });

  it('rejects a probe interval of 0 and a timeout not below the interval, with file:line and field', () => {
    const zero = write('zero.yaml', probeRule('zero', 'p-zero').replace('every: 5s', 'every: 0s'));
    const slow = write(
      'slow.yaml',
      probeRule('slow', 'p-slow').replace('every: 5s', 'every: 1s\n  timeout: 2s'),
    );
    const equal = write(
      'equal.yaml',
      probeRule('equal', 'p-equal').replace('every: 5s', 'every: 1s\n  timeout: 1000'),
    );
    expect(problemsOf(() => loadRules(dir, {}, {}))).toEqual([
      `${equal}:10:12 probe.timeout: 1s must be less than every (1s)`,
      `${slow}:10:12 probe.timeout: 2s must be less than every (1s)`,
      `${zero}:9:10 probe.every: must be more than 0`,
    ]);
  });

  it('schedules nothing for a disabled rule', () => {
    write('on.yaml', probeRule('on', 'p-on'));
    write('off.yaml', `${probeRule('off', 'p-off')}enabled: false\n`);
    expect(scheduledProbes(loadRules(dir, {}, {})).map((p) => p.name)).toEqual(['p-on']);
  });

  it('names a missing field as missing, not as "received undefined"', () => {
    const file = write(
      'bare.yaml',
      'id: bare\nmatch: { name: x }\ncondition: { kind: consecutive, count: 2 }\n',
    );
    const problems = problemsOf(() => loadRules(dir, {}, {}));
    expect(problems).toEqual([
      `${file}:1:1 title: required, but missing`,
      `${file}:1:1 severity: required, but missing`,
      `${file}:1:1 ackSla: required, but missing`,
    ]);
  });

  it('rejects a rule with neither match nor a probe of its own', () => {
    const file = write(
      'orphan.yaml',
      `id: orphan
title: Watches nothing
severity: warning
ackSla: 30m
condition:
  kind: consecutive
  count: 2
`,
    );
    const problems = problemsOf(() => loadRules(dir, {}, {}));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+ match: `),
    );
    expect(problems[0]).toContain('a rule needs `match` or a `probe` of its own');
  });

  it('accepts a rule that matches another rule’s probe events', () => {
    write('a.yaml', probeRule('api-down', 'api'));
    write(
      'b.yaml',
      `id: api-down-prod
title: API down in prod
severity: critical
ackSla: 5m
match:
  source: probe
  name: api
  labels: {env: prod}
condition:
  kind: consecutive
  count: 5
  resolveAfter: 2
`,
    );
    const set = loadRules(dir, {}, {});
    expect(set.rules.map((r) => r.id)).toEqual(['api-down', 'api-down-prod']);
    expect(set.probes.map((p) => p.name)).toEqual(['api']);
    expect(set.rules[1]!.condition).toEqual({ kind: 'consecutive', count: 5, resolveAfter: 2 });
  });

  it('refuses a rule matching probe events by a name no probe has (a typo would never alert)', () => {
    write(
      'svc.yaml',
      `id: svc
title: Service down
severity: high
ackSla: 5m
probe: { kind: http, name: my-svc-health, url: 'http://127.0.0.1:1/', every: 5s, timeout: 1s }
match:
  source: probe
  name: my-svc-healht
condition: { kind: consecutive, count: 3 }
`,
    );
    expect(problemsOf(() => loadRules(dir, {}, {}))).toEqual([
      `${join(dir, 'svc.yaml')}:8:9 match.name: no probe is named "my-svc-healht" (probes: my-svc-health)`,
    ]);
  });

  it('says clearly when the folder does not exist', () => {
    const missing = join(dir, 'nope');
    expect(problemsOf(() => loadRules(missing, {}, {}))).toEqual([
      `${missing}: rules folder not found (set rules.dir; relative to the config file)`,
    ]);
  });
});
