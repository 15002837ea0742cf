import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createLogger, logFormat, redactUrl } from '../../src/log.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, log: createLogger({ level: 'info', destination }) };
}

describe('logging keeps secrets out', () => {
  it('redacts tokens, signing secrets and passwords wherever they appear in a record', () => {
    const { lines, log } = capture();
    log.info(
      {
        config: {
          slack: { token: 'xoxb-secret-1', signingSecret: 'sign-secret-2' },
          http: { apiToken: 'api-secret-3' },
        },
        headers: { authorization: 'Bearer secret-4' },
        smtp: { password: 'secret-5' },
      },
      'loaded',
    );
    const out = lines.join('');
    for (const secret of ['xoxb-secret-1', 'sign-secret-2', 'api-secret-3', 'secret-4', 'secret-5']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('[redacted]');
  });

  it('hides the password of a connection URL', () => {
    expect(redactUrl('postgres://vigil:hunter2@db:5432/vigil')).toBe('postgres://vigil:***@db:5432/vigil');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});

describe('log lines a pipeline can parse', () => {
  it('a child of a child keeps each key once, the innermost value winning', () => {
    const { lines, log } = capture();
    const worker = log.child({ agent: 'a1' }).child({ component: 'notify' }).child({ component: 'slack' });
    worker.child({ job: 7 }).info('sent');
    const line = lines.join('').trim();
    expect(line.match(/"component"/g)).toHaveLength(1);
    expect(JSON.parse(line)).toMatchObject({ agent: 'a1', component: 'slack', job: 7, msg: 'sent' });
  });

  it('redaction still applies to bindings of a child', () => {
    const { lines, log } = capture();
    log.child({ token: 'xoxb-secret-9' }).child({ component: 'x' }).info('hello');
    expect(lines.join('')).not.toContain('xoxb-secret-9');
  });

  it('prints human-readable lines when asked (a terminal), JSON otherwise', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger({ level: 'info', destination, format: 'pretty' });
    log.child({ component: 'rules' }).warn({ rule: 'api-health' }, 'threshold changed');
    const out = lines.join('');
    expect(out).toMatch(/WARN.*\[rules\] threshold changed.*"rule":"api-health"/);
    expect(out).not.toMatch(/^\{/);
  });

  it('chooses pretty only for a terminal unless VIGIL_LOG_FORMAT says otherwise', () => {
    expect(logFormat(undefined, true)).toBe('pretty');
    expect(logFormat(undefined, false)).toBe('json');
    expect(logFormat('json', true)).toBe('json');
    expect(logFormat('pretty', false)).toBe('pretty');
    expect(() => logFormat('yaml', true)).toThrow(ConfigError);
  });
});
