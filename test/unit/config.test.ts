import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/config/duration.js';
import { loadConfig, type LoadOptions } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a config file into the test's temp folder and returns its path. */
function write(text: string, name = 'vigil.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The ConfigError loadConfig throws (fails the test if it does not throw one). */
function configError(options: LoadOptions): ConfigError {
  try {
    loadConfig(options);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

const minimal = `database:
  url: postgres://vigil@db.internal:5432/vigil
redis:
  url: redis://cache.internal:6379
`;

describe('loadConfig from a YAML file', () => {
  it('loads a minimal file and fills in every default', () => {
    const file = write(minimal);
    const config = loadConfig({ file, env: {} });
    expect(config).toEqual({
      database: { url: 'postgres://vigil@db.internal:5432/vigil', schema: 'public', poolSize: 10 },
      redis: { url: 'redis://cache.internal:6379', prefix: 'vigil' },
      http: { host: '127.0.0.1', port: 8470 },
      // Relative to the config file, wherever the agent is started from.
      rules: { dir: join(dirname(file), 'rules'), vars: {}, envPrefix: 'VIGIL_RULE_', tickEvery: 1000 },
      events: {
        batchSize: 200,
        linger: 2,
        concurrency: 4,
        maxFutureSkew: 60_000,
        maxInFlight: 4,
        maxBuffered: 10_000,
      },
      notify: {
        concurrency: 8,
        backoff: 1000,
        maxBackoff: 60_000,
        retryFor: 86_400_000,
        sweepEvery: 5000,
        leaseFor: 30_000,
        fallbackAfter: 300_000,
        recheckEvery: 60_000,
        digest: { threshold: 10, window: 60_000 },
      },
      canary: { every: 30_000, maxAge: 120_000 },
      sources: [
        { kind: 'probes', name: 'probes', concurrency: 100, reassertEvery: 30_000 },
        { kind: 'host-probes', name: 'host-probes' },
      ],
      stateDir: join(dirname(file), '.vigil/state'),
      targets: {},
      escalation: { policies: {} },
      oncall: {
        ackExpiry: 14_400_000,
        timeZone: 'UTC',
        ackLinkTtl: 86_400_000,
        silenceFor: 3_600_000,
        flapping: { changes: 6, window: 1_800_000, stableFor: 600_000 },
      },
      remediation: { dryRun: false, concurrency: 4, runTimeout: 300_000, leaseFor: 30_000, targets: {} },
      maintenance: [],
      shutdown: { deadline: 10_000 },
      log: { level: 'info' },
    });
    // Channels are opt-in: no Slack or email section means no such channel.
    expect(config.slack).toBeUndefined();
    expect(config.email).toBeUndefined();
  });

  it('turns duration fields into milliseconds', () => {
    const config = loadConfig({
      file: write(`${minimal}slack:
  token: xoxb-1
  channel: C0ALERTS
  timeout: 1500ms
events:
  linger: 5ms
notify:
  backoff: 2s
shutdown:
  deadline: 1m
`),
      env: {},
    });
    expect(config.slack?.timeout).toBe(1500);
    expect(config.slack?.apiUrl).toBe('https://slack.com/api/');
    expect(config.events.linger).toBe(5);
    expect(config.notify.backoff).toBe(2000);
    expect(config.shutdown.deadline).toBe(60_000);
  });

  it('returns a deeply frozen config: no part of the running agent can change it', () => {
    const config = loadConfig({
      file: write(`${minimal}rules:
  vars:
    HELIX_API_URL: http://helix:8015
email:
  smtpUrl: smtp://mail.internal:25
  from: vigil@example.test
  to: [oncall@example.test]
`),
      env: {},
    });
    // Test files are ES modules, so strict mode: writing to a frozen object throws.
    expect(() => {
      (config as { agentId?: string }).agentId = 'other';
    }).toThrow(TypeError);
    expect(() => {
      (config.database as { url: string }).url = 'postgres://elsewhere/db';
    }).toThrow(TypeError);
    expect(() => {
      (config.rules.vars as Record<string, string>).HELIX_API_URL = 'http://evil';
    }).toThrow(TypeError);
    expect(() => {
      (config.email?.to as string[]).push('attacker@example.test');
    }).toThrow(TypeError);
    expect(config.database.url).toBe('postgres://vigil@db.internal:5432/vigil');
    expect(config.rules.vars.HELIX_API_URL).toBe('http://helix:8015');
    expect(config.email?.to).toEqual(['oncall@example.test']);
  });

  it('interpolates ${VAR} and ${VAR:-default} from the env option', () => {
    const file = write(`database:
  url: postgres://\${DB_USER}@\${DB_HOST:-127.0.0.1}:\${DB_PORT:-5432}/vigil
redis:
  url: \${REDIS_ADDR:-redis://127.0.0.1:6379}
  prefix: \${PREFIX:-vigil}-\${STAGE}
`);
    const config = loadConfig({
      file,
      env: { DB_USER: 'alice', DB_PORT: '6543', STAGE: 'prod', PREFIX: '' },
    });
    // Set values win over the default; unset (or empty) ones take it.
    expect(config.database.url).toBe('postgres://alice@127.0.0.1:6543/vigil');
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.redis.prefix).toBe('vigil-prod');
  });

  it('takes numbers from ${VAR} where the field is a number', () => {
    const file = write(`database:
  url: postgres://127.0.0.1/vigil
  poolSize: \${POOL:-12}
redis:
  url: redis://127.0.0.1:6379
http:
  port: \${PORT:-8470}
`);
    expect(loadConfig({ file, env: {} }).http.port).toBe(8470);
    const config = loadConfig({ file, env: { PORT: '9000', POOL: '3' } });
    expect(config.http.port).toBe(9000);
    expect(config.database.poolSize).toBe(3);
    expect(() => loadConfig({ file, env: { PORT: 'eighty' } })).toThrow(/http\.port/);
  });

  it('does not read process.env when an env option is given', () => {
    const name = 'VIGIL_CONFIG_TEST_ONLY_IN_PROCESS_ENV';
    process.env[name] = 'from-process';
    try {
      const config = loadConfig({
        file: write(`${minimal}agentId: \${${name}:-from-default}\n`),
        env: {},
      });
      expect(config.agentId).toBe('from-default');
    } finally {
      delete process.env[name];
    }
  });

  it('lets environment overrides win over the file, with the port as a number', () => {
    const file = write(`${minimal}http:
  port: 8470
slack:
  token: xoxb-from-file
  channel: C0FILE
log:
  level: info
`);
    const config = loadConfig({
      file,
      env: {
        DATABASE_URL: 'postgres://env@db2:5432/other',
        REDIS_URL: 'rediss://cache2:6380',
        VIGIL_REDIS_PREFIX: 'staging',
        VIGIL_HTTP_PORT: '9100',
        SLACK_API_URL: 'http://127.0.0.1:3999/api/',
        SLACK_BOT_TOKEN: 'xoxb-from-env',
        SLACK_CHANNEL: 'C0ENV',
        VIGIL_LOG_LEVEL: 'debug',
        VIGIL_API_TOKEN: '0123456789abcdef0123',
        // Empty values are treated as unset, not as "override with nothing".
        SMTP_URL: '',
      },
    });
    expect(config.database.url).toBe('postgres://env@db2:5432/other');
    expect(config.redis).toEqual({ url: 'rediss://cache2:6380', prefix: 'staging' });
    expect(config.http.port).toBe(9100);
    expect(config.http.apiToken).toBe('0123456789abcdef0123');
    expect(config.slack).toMatchObject({
      token: 'xoxb-from-env',
      channel: 'C0ENV',
      apiUrl: 'http://127.0.0.1:3999/api/',
    });
    expect(config.log.level).toBe('debug');
    expect(config.email).toBeUndefined();
  });

  it('takes an email section from SMTP_URL, EMAIL_FROM and EMAIL_TO (comma-separated)', () => {
    const config = loadConfig({
      file: write(minimal),
      env: {
        SMTP_URL: 'smtp://mail:1025',
        EMAIL_FROM: 'vigil@example.test',
        EMAIL_TO: 'oncall@example.test, lead@example.test',
      },
    });
    expect(config.email).toEqual({
      smtpUrl: 'smtp://mail:1025',
      from: 'vigil@example.test',
      to: ['oncall@example.test', 'lead@example.test'],
      timeout: 10_000,
      rateLimit: { perSecond: 0, burst: 1 },
    });
  });

  it('reports a non-numeric VIGIL_HTTP_PORT as a problem with http.port', () => {
    const err = configError({ file: write(minimal), env: { VIGIL_HTTP_PORT: 'eighty' } });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(/ http\.port: .*expected number/);
  });

  it('reports every problem of a file at once, one line each with file:line:col and the dotted path', () => {
    const file = write(`database:
  url: mysql://db.internal/vigil
redis:
  url: redis://cache.internal:6379
slack:
  token: xoxb-1
  chanel: C0ALERTS
  channel: C0ALERTS
  timeout: 5 parsecs
http:
  port: "eighty"
events:
  batchSize: 0
`);
    const { problems } = configError({ file, env: {} });
    expect(problems).toHaveLength(5);
    const expected: Array<[string, RegExp]> = [
      [`${file}:7:3 slack.chanel: unknown key`, /^/],
      [`${file}:2:8 database.url: `, /must be a URL starting with postgres:\/\/ or postgresql:\/\//],
      [`${file}:9:12 slack.timeout: `, /invalid duration "5 parsecs"/],
      [`${file}:11:9 http.port: `, /expected number, received string/],
      [`${file}:13:14 events.batchSize: `, />=\s*1/],
    ];
    for (const [prefix, message] of expected) {
      const lines = problems.filter((p) => p.startsWith(prefix));
      expect(lines, `one problem starting with ${prefix}`).toHaveLength(1);
      expect(lines[0]!.slice(prefix.length)).toMatch(message);
    }
    // The error's message lists them all too (the CLI prints it).
    for (const p of problems) expect(problems.join('\n')).toContain(p);
  });

  it('points an unknown section at its own line, not at the first setting inside it', () => {
    const file = write(`${minimal}slak:
  token: xoxb-1
  channel: C0ALERTS
`);
    const { problems } = configError({ file, env: {} });
    expect(problems).toEqual([`${file}:5:1 slak: unknown key`]);
  });

  it('reports a ${VAR} that is not set and has no default, with its line and path', () => {
    const file = write(`database:
  url: postgres://vigil@db.internal/vigil
redis:
  url: redis://cache.internal:6379
slack:
  token: \${SLACK_TOKEN}
  channel: C0ALERTS
`);
    const { problems } = configError({ file, env: {} });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBe(
      `${file}:6:10 slack.token: \${SLACK_TOKEN} is not set (set it or write \${SLACK_TOKEN:-default})`,
    );
    // Set, it loads.
    expect(loadConfig({ file, env: { SLACK_TOKEN: 'xoxb-2' } }).slack?.token).toBe('xoxb-2');
  });

  it('reports invalid YAML with file:line:col', () => {
    const file = write(`database:
  url: postgres://vigil@db.internal/vigil
redis:
  url: redis://cache.internal:6379
  url: redis://other:6379
`);
    const { problems } = configError({ file, env: {} });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${escape(file)}:5:\\d+: invalid YAML: .*unique`));
  });

  it('reports a syntax error with its line', () => {
    const file = write(`database:
  url: postgres://vigil@db.internal/vigil
redis: {url: redis://cache.internal:6379
log:
  level: info
`);
    const { problems } = configError({ file, env: {} });
    expect(problems.length).toBeGreaterThanOrEqual(1);
    for (const p of problems) expect(p).toMatch(new RegExp(`^${escape(file)}:\\d+:\\d+: invalid YAML: `));
  });

  it('refuses a file that is not a mapping of settings', () => {
    const file = write(`- database\n- redis\n`);
    const { problems } = configError({ file, env: {} });
    expect(problems).toEqual([`${file}: must be a mapping of settings, got a list`]);
  });

  it('says clearly when an explicitly named file does not exist', () => {
    const file = join(dir, 'missing.yaml');
    const err = configError({ file, env: {} });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toContain(file);
    expect(err.problems[0]).toMatch(/config file not found/);
    expect(err.code).toBe('E_CONFIG');
  });
});

describe('loadConfig from an object', () => {
  it('validates, applies defaults and env overrides like a file', () => {
    const config = loadConfig({
      object: {
        database: { url: 'postgres://vigil@127.0.0.1/vigil', schema: 't_abc' },
        redis: { url: 'redis://127.0.0.1:6379', prefix: 'vt-abc' },
        http: { port: 0 },
        notify: { backoff: '50ms' },
      },
      env: { VIGIL_HTTP_PORT: '8080' },
    });
    expect(config.database).toEqual({
      url: 'postgres://vigil@127.0.0.1/vigil',
      schema: 't_abc',
      poolSize: 10,
    });
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.notify.backoff).toBe(50);
    expect(Object.isFrozen(config.notify)).toBe(true);
  });

  it('interpolates ${VAR} in an object too', () => {
    const config = loadConfig({
      object: {
        database: { url: 'postgres://${PGUSER:-postgres}@${PGHOST}/vigil' },
        redis: { url: 'redis://127.0.0.1:6379' },
      },
      env: { PGHOST: 'db.internal' },
    });
    expect(config.database.url).toBe('postgres://postgres@db.internal/vigil');
  });

  it('reports every problem with its dotted path', () => {
    const { problems } = configError({
      object: {
        database: { url: 'http://not-a-database', schema: 'Bad-Schema' },
        redis: { url: 'redis://127.0.0.1:6379', unknown: true } as never,
      },
      env: {},
    });
    expect(problems).toHaveLength(3);
    expect(problems).toContain('config redis.unknown: unknown key');
    expect(problems.some((p) => /^config database\.url: must be a URL/.test(p))).toBe(true);
    expect(
      problems.some((p) => /^config database\.schema: must be a lower-case SQL identifier/.test(p)),
    ).toBe(true);
  });

  it('does not mutate the object it was given', () => {
    const object = {
      database: { url: 'postgres://vigil@127.0.0.1/vigil' },
      redis: { url: 'redis://127.0.0.1:6379' },
    };
    loadConfig({ object, env: { DATABASE_URL: 'postgres://other@127.0.0.1/vigil' } });
    expect(object).toEqual({
      database: { url: 'postgres://vigil@127.0.0.1/vigil' },
      redis: { url: 'redis://127.0.0.1:6379' },
    });
    expect(Object.isFrozen(object.database)).toBe(false);
  });
});

describe('durations', () => {
  it('parses the units people write', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration(' 30 s ')).toBe(30_000);
    expect(parseDuration(0)).toBe(0);
    expect(parseDuration(1234)).toBe(1234);
  });

  it('rejects what is not a duration', () => {
    for (const bad of ['', 'soon', '5', '5 parsecs', '-5s', '5sec', '1h30m', 'ms']) {
      expect(parseDuration(bad), JSON.stringify(bad)).toBeUndefined();
    }
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(parseDuration(bad), String(bad)).toBeUndefined();
    }
  });

  it('formats milliseconds in the largest exact unit', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(1500)).toBe('1500ms');
    expect(formatDuration(5000)).toBe('5s');
    expect(formatDuration(300_000)).toBe('5m');
    expect(formatDuration(5_400_000)).toBe('90m');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(172_800_000)).toBe('2d');
  });

  it('round-trips: what formatDuration prints, parseDuration reads back', () => {
    for (const ms of [0, 1, 250, 999, 1000, 1500, 60_000, 90_000, 300_000, 3_600_000, 86_400_000 * 3]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
