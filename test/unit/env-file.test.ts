import { describe, expect, it } from 'vitest';
import { asPort, envValue, withEnvValue } from '../../src/config/env-file.js';

describe('dotenv files, one key at a time', () => {
  it('reads bare, quoted, exported and commented values; the last line setting the key wins', () => {
    expect(envValue('A=1\nAPI_PORT=8000\n', 'API_PORT')).toBe('8000');
    expect(envValue('export API_PORT = "8001" # moved\n', 'API_PORT')).toBe('8001');
    expect(envValue("API_PORT='8002'\r\n", 'API_PORT')).toBe('8002');
    expect(envValue('API_PORT=1\nAPI_PORT=2', 'API_PORT')).toBe('2');
    expect(envValue('XAPI_PORT=1\n# API_PORT=2\nAPI_PORTS=3\n', 'API_PORT')).toBeUndefined();
  });

  it('changes only the value: quotes, comments, CRLF and every other byte stay', () => {
    const text = 'DB_URL=postgres://h/é\r\nexport API_PORT = "8000" # from find-port.sh\r\nX=1';
    expect(withEnvValue(text, 'API_PORT', '8001')).toBe(
      'DB_URL=postgres://h/é\r\nexport API_PORT = "8001" # from find-port.sh\r\nX=1',
    );
    expect(withEnvValue('API_PORT=\n', 'API_PORT', '8003')).toBe('API_PORT=8003\n');
  });

  it('adds the key at the end when no line sets it, with the file’s line ending', () => {
    expect(withEnvValue('', 'API_PORT', '8000')).toBe('API_PORT=8000\n');
    expect(withEnvValue('A=1', 'API_PORT', '8000')).toBe('A=1\nAPI_PORT=8000\n');
    expect(withEnvValue('A=1\r\n', 'API_PORT', '8000')).toBe('A=1\r\nAPI_PORT=8000\r\n');
  });

  it('takes only a port as a port', () => {
    expect([
      asPort('8000'),
      asPort(' 1 '),
      asPort('0'),
      asPort('65536'),
      asPort('80a'),
      asPort(undefined),
    ]).toEqual([8000, 1, undefined, undefined, undefined, undefined]);
  });

  it('refuses a key that is not a variable name (it becomes part of a pattern)', () => {
    expect(() => envValue('', 'A.*')).toThrow('"A.*" is not an environment variable name');
  });
});
