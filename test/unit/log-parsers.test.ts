import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { fileNamePattern } from '../../src/sources/logs/glob.js';
import { jsonParser } from '../../src/sources/logs/parsers/json.js';
import { fieldOf } from '../../src/sources/logs/parsers/parser.js';
import { regexParser } from '../../src/sources/logs/parsers/regex.js';
import { parseTime } from '../../src/sources/logs/parsers/time.js';
import { logSourceSchema, type LogSourceSpec } from '../../src/sources/logs/schema.js';

describe('log parsers', () => {
  it('regex: named groups become fields and a `time` group dates the record', () => {
    const parse = regexParser(
      String.raw`^(?<time>\S+ \S+) (?<level>[A-Z]+) (?<logger>[\w.]+): (?<msg>.*)$`,
      undefined,
    );
    const p = parse('2025-07-08 11:17:02,123 ERROR helix.agent: Schema validation failed');
    expect(p.fields).toMatchObject({
      level: 'ERROR',
      logger: 'helix.agent',
      msg: 'Schema validation failed',
    });
    expect(p.time).toBe(new Date(2025, 6, 8, 11, 17, 2, 123).getTime());
    expect(parse('not the format')).toEqual({ fields: {}, time: undefined, ok: false });
  });

  it('json: pino (epoch ms), structlog (ISO) and python-json-logger (asctime) times', () => {
    const parse = jsonParser(undefined);
    expect(parse('{"level":50,"time":1751966222123,"msg":"x"}').time).toBe(1751966222123);
    expect(parse('{"event":"x","timestamp":"2025-07-08T09:17:02.123Z"}').time).toBe(
      Date.UTC(2025, 6, 8, 9, 17, 2, 123),
    );
    expect(parse('{"asctime":"2025-07-08 11:17:02,123","message":"x"}').time).toBe(
      new Date(2025, 6, 8, 11, 17, 2, 123).getTime(),
    );
    expect(parse('{"a":1').ok).toBe(false);
    expect(parse('[1,2]').ok).toBe(false);
  });

  it('json: dotted field paths reach nested members', () => {
    const { fields } = jsonParser(undefined)('{"http":{"status":503}}');
    expect(fieldOf(fields, 'http.status')).toBe(503);
    expect(fieldOf(fields, 'http.missing')).toBeUndefined();
  });

  it('times: zones, seconds since the epoch, and nonsense', () => {
    expect(parseTime('2025-07-08T11:17:02+02:00')).toBe(Date.UTC(2025, 6, 8, 9, 17, 2));
    expect(parseTime(1751966222)).toBe(1751966222000);
    expect(parseTime('yesterday')).toBeUndefined();
  });
});

describe('log source config', () => {
  const base = {
    kind: 'log',
    name: 'helix',
    paths: ['/var/log/helix/*.log'],
    signals: [{ name: 'tb', match: '^Traceback' }],
  };

  it('fills defaults', () => {
    const spec = logSourceSchema.parse(base);
    expect(spec).toMatchObject({
      parser: { kind: 'plain' },
      multiline: 'none',
      maxLineBytes: 65536,
      pollEvery: 250,
      startAt: 'end',
    });
    expect(logSourceSchema.parse({ ...base, parser: 'json' }).parser).toEqual({ kind: 'json' });
  });

  it('refuses a bad regex, wildcards in folders, and a signal named twice with the same ok', () => {
    const bad = (over: object) => logSourceSchema.safeParse({ ...base, ...over }).error?.issues[0]?.message;
    expect(bad({ signals: [{ name: 'x', match: '(' }] })).toMatch(/not a regular expression/);
    expect(bad({ signals: [{ name: 'x', match: '(\\w+\\s?)*$' }] })).toMatch(
      /can backtrack catastrophically/,
    );
    expect(bad({ paths: ['/var/*/x.log'] })).toMatch(/wildcards only in the file name/);
    expect(bad({ signals: [base.signals[0], base.signals[0]] })).toMatch(
      /already has a failure .* one of each/,
    );
    // A failure signal and a recovery signal may share a name: a rule on it fires and resolves.
    const pair = [base.signals[0], { ...base.signals[0], match: 'heartbeat', ok: true }];
    expect(logSourceSchema.safeParse({ ...base, signals: pair }).success).toBe(true);
    expect(bad({ parser: { kind: 'regex', pattern: '^(.*)$' } })).toMatch(/named group/);
  });

  it('file-name globs', () => {
    expect(fileNamePattern('*.log').test('production.log')).toBe(true);
    expect(fileNamePattern('*.log').test('production.log.1')).toBe(false);
    expect(fileNamePattern('*.log').test('.hidden.log')).toBe(false);
    expect(fileNamePattern('app-[0-9].log').test('app-3.log')).toBe(true);
    expect(fileNamePattern('app-?.log').test('app-x.log')).toBe(true);
  });
});

describe("vigil.yaml's log source", () => {
  it("follows HELIX's production.log with the default rules' signals, and its pattern reads a HELIX line", () => {
    const { sources } = loadConfig({
      file: 'vigil.yaml',
      env: { HELIX_LOG: '/var/log/helix/production.log' },
    });
    const spec = sources.find((s) => s.kind === 'log') as LogSourceSpec;
    expect(spec.paths).toEqual(['/var/log/helix/production.log']);
    expect(spec.signals.map((s) => s.name)).toEqual([
      'helix-heartbeat',
      'helix-error',
      'helix-schema-validation',
    ]);
    const parser = spec.parser.kind === 'regex' ? regexParser(spec.parser.pattern, undefined) : undefined;
    expect(
      parser?.('2025-07-08 11:17:02,123 ERROR helix.agent: Schema validation failed').fields,
    ).toMatchObject({
      level: 'ERROR',
      logger: 'helix.agent',
    });
  });
});
