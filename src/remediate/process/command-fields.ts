import { z } from 'zod';
import { duration, formatDuration } from '../../config/duration.js';
import { integer } from '../../config/fields.js';
import { isProgram } from './spawn.js';

const noNul = (s: string) => !s.includes('\0');

/** An absolute path without "." or ".." parts, or a bare name looked up in the child's PATH. */
export const program = z
  .string()
  .min(1)
  .max(4096)
  .refine(isProgram, 'an absolute path (no "." or ".." parts) or a bare program name');

/**
 * One argv element, passed as it is: no shell, so nothing in it is expanded or split. A NUL byte
 * cannot be passed in argv at all (it would end the string), so it is refused rather than cut.
 */
export const argument = z.string().max(32_768).refine(noNul, 'no NUL bytes');

export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

/** The child's environment: these names' values from the agent's environment, nothing else. */
export const envAllow = (defaults: string[]) => z.array(envName).max(64).default(defaults);

/** Fixed values added to the child's environment (over allowlisted ones of the same name). */
export const setEnv = z.record(envName, z.string().max(32_768).refine(noNul, 'no NUL bytes')).optional();

/** Kept bytes of output: the record is for seeing what went wrong, not for logs. */
export const maxOutput = integer(1, 64 * 1024).default(8 * 1024);

/**
 * An argv element shown in a one-line description: as it is when it is plainly one word, else
 * quoted with anything unprintable or non-ASCII escaped (no line breaks, no bidi tricks in a
 * message people approve), and cut when long.
 */
export function showArg(arg: string, max = 120): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) && arg.length <= max) return arg;
  const shown = arg.length > max ? arg.slice(0, max) : arg;
  const quoted = JSON.stringify(shown).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return arg.length > max ? `${quoted}…(${arg.length - max} more)` : quoted;
}

/** "exit code 3", "killed by SIGKILL after timing out (5s)", "cannot start: ENOENT", "aborted". */
export function howItEnded(
  r: {
    exitCode: number | null;
    signal: string | null;
    timedOut: boolean;
    aborted: boolean;
    startError?: string;
  },
  timeoutMs: number,
): string {
  if (r.startError) return `cannot start: ${r.startError}`;
  if (r.aborted) return 'aborted';
  if (r.timedOut)
    return `timed out after ${formatDuration(timeoutMs)}${r.signal ? `, killed by ${r.signal}` : ''}`;
  return r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`;
}

/** How long a program (or request) may take; the run's own deadline still applies over it. */
export const timeout = duration.pipe(z.number().min(1).max(86_400_000));
