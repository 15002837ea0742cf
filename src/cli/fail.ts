import { ConfigError, DependencyError, VigilError, errorMessage } from '../errors.js';

export const EXIT_FAILURE = 1;
export const EXIT_CONFIG = 2;

/**
 * Prints a startup failure the way an operator wants it: every config problem on its own line
 * (exit 2), an unreachable dependency as one line with the fix (exit 1), never a stack trace
 * unless VIGIL_DEBUG is set.
 */
export function reportFailure(
  err: unknown,
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): number {
  if (process.env.VIGIL_DEBUG) write(String((err as Error)?.stack ?? err));
  if (err instanceof ConfigError) {
    write(
      `vigil: invalid configuration (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}):`,
    );
    for (const p of err.problems) write(`  ${p}`);
    return EXIT_CONFIG;
  }
  if (err instanceof DependencyError) {
    write(`vigil: ${err.message} — ${err.hint}`);
    return EXIT_FAILURE;
  }
  if (err instanceof VigilError) {
    write(`vigil: ${err.code}: ${err.message}`);
    return EXIT_FAILURE;
  }
  write(`vigil: ${errorMessage(err)}`);
  return EXIT_FAILURE;
}
