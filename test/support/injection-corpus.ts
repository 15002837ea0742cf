import { join } from 'node:path';

export interface InjectionCase {
  /** What the string tries, for test names. */
  label: string;
  value: string;
  /** It cannot be an argv element, an environment value or a file name at all (a NUL byte). */
  unpassable?: boolean;
}

/**
 * Hostile strings for anything that could end up on a command line, in a path or in SQL text:
 * labels, payloads, argv. Every one that would run something, if a shell or SQL ever saw it,
 * creates a file under `canaryDir`, and the `rm` one would delete `canaryDir/x`: so "nothing was
 * executed" is "canaryDir holds what the test put there, and nothing else".
 */
export function injectionCorpus(canaryDir: string): InjectionCase[] {
  const canary = (name: string) => join(canaryDir, name);
  return [
    { label: 'command separator', value: `; touch ${canary('semicolon')}` },
    { label: 'rm after separator', value: `; rm -rf ${canary('x')}; touch ${canary('rm')}` },
    { label: 'command substitution', value: `$(touch ${canary('dollar-paren')})` },
    { label: 'backticks', value: `\`touch ${canary('backtick')}\`` },
    { label: 'pipe', value: `| touch ${canary('pipe')}` },
    { label: 'or-chain', value: `|| touch ${canary('or')}` },
    { label: 'and-chain', value: `&& touch ${canary('and')}` },
    { label: 'or true', value: '|| true' },
    { label: 'and echo', value: '&& echo injected' },
    { label: 'background', value: `& touch ${canary('background')} &` },
    { label: 'newline then command', value: `\ntouch ${canary('newline')}\n` },
    { label: 'bare newline', value: '\n' },
    { label: 'carriage return', value: 'helix\r\nX-Injected: 1' },
    { label: 'redirect', value: `> ${canary('redirect')}` },
    { label: 'process substitution', value: `<(touch ${canary('process-sub')})` },
    { label: 'variable expansion', value: '${HOME}$PATH$SECRET' },
    { label: 'IFS trick', value: `touch\${IFS}${canary('ifs')}` },
    { label: 'glob', value: '/etc/*' },
    { label: 'tilde', value: '~root/.ssh/id_rsa' },
    { label: 'path traversal', value: '../../etc/passwd' },
    { label: 'absolute traversal', value: '/usr/bin/../../etc/passwd' },
    { label: 'option injection', value: '--rm' },
    { label: 'short options', value: '-rf' },
    { label: 'SQL tautology', value: "' OR 1=1 --" },
    { label: 'SQL drop', value: '"; DROP TABLE tasks; --' },
    { label: 'SQL stacked', value: "1; UPDATE tasks SET status = 'done'; --" },
    { label: 'single quotes', value: `'; touch ${canary('quote')}; '` },
    { label: 'double quotes', value: `"; touch ${canary('dquote')}; "` },
    { label: 'null byte', value: `helix\0; touch ${canary('nul')}`, unpassable: true },
    { label: 'only a null byte', value: '\0', unpassable: true },
    { label: 'unicode and RTL override', value: 'hélix\u202egnp.exe 🚨' },
    { label: 'empty string', value: '' },
    { label: 'very long', value: `${'A'.repeat(20_000)}; touch ${canary('long')}` },
  ];
}
