import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl } from '../../src/log.js';

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
