/**
 * "Exactly once" is judged after a quiet period, not at the first success: a duplicate would come
 * from a retry, a sweep or a second agent acting later. This waits long enough for several of those.
 */
export function quietPeriod(ms = 1500): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * For state that announces nothing (a health reason appearing): looks every 25 ms until `check`
 * holds, and fails naming `what` after `timeoutMs`.
 */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
