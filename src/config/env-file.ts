import { readFile } from 'node:fs/promises';

/**
 * A dotenv file (`KEY=value` lines, as HELIX's `.env`) read and edited one key at a time. Files are
 * handled as latin1 text so every byte maps to one character and back: an edit changes the key's
 * value and nothing else, whatever the other lines hold (UTF-8, CRLF, no final newline).
 */

/** Names a process environment can carry and a dotenv line can set. */
export const envKeyPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `KEY=v`, `export KEY = "v"`, `KEY='v' # note`: prefix, quoted or bare value, the rest kept as is. */
function lineOf(key: string): RegExp {
  if (!envKeyPattern.test(key)) throw new Error(`"${key}" is not an environment variable name`);
  return new RegExp(
    `^(\\s*(?:export\\s+)?${key}\\s*=[ \\t]*)(?:"([^"]*)"|'([^']*)'|([^\\s#"']*))([\\s\\S]*)$`,
  );
}

/** The key's value (the last line setting it wins, as in dotenv), or undefined when no line sets it. */
export function envValue(text: string, key: string): string | undefined {
  const re = lineOf(key);
  let found: string | undefined;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (m) found = m[2] ?? m[3] ?? m[4] ?? '';
  }
  return found;
}

/**
 * The text with every line setting `key` given `value` (quotes and trailing comments kept), or one
 * `KEY=value` line added at the end when none does. Other lines are returned byte for byte.
 */
export function withEnvValue(text: string, key: string, value: string): string {
  const re = lineOf(key);
  let replaced = false;
  const lines = text.split('\n').map((line) => {
    const m = re.exec(line);
    if (!m) return line;
    replaced = true;
    const quote = m[2] !== undefined ? '"' : m[3] !== undefined ? "'" : '';
    return `${m[1]}${quote}${value}${quote}${m[5]}`;
  });
  if (replaced) return lines.join('\n');
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const sep = text === '' || text.endsWith('\n') ? '' : eol;
  return `${text}${sep}${key}=${value}${eol}`;
}

/** A port as a dotenv value: digits only, 1–65535; anything else is undefined. */
export function asPort(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value.trim())) return undefined;
  const port = Number(value.trim());
  return port >= 1 && port <= 65_535 ? port : undefined;
}

/** The file's text, or undefined when it does not exist. */
export async function readEnvText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'latin1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The port `key` holds in `file`, or why there is none (missing file, missing key, not a port). */
export async function readEnvPort(
  file: string,
  key: string,
): Promise<{ port: number } | { problem: string }> {
  let text: string | undefined;
  try {
    text = await readEnvText(file);
  } catch (err) {
    return { problem: `${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  if (text === undefined) return { problem: `${file} does not exist` };
  const value = envValue(text, key);
  if (value === undefined) return { problem: `${file} does not set ${key}` };
  const port = asPort(value);
  return port === undefined
    ? { problem: `${key} in ${file} is ${JSON.stringify(value)}, not a port` }
    : { port };
}
