/**
 * "Exactly once" is judged after a quiet period, not at the first success: a duplicate would come
 * from a retry, a sweep or a second agent acting later. This waits long enough for several of those.
 */
export function quietPeriod(ms = 1500): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
