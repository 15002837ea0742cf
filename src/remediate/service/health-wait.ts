import { setTimeout as sleep } from 'node:timers/promises';
export interface HealthWait {
  url: string;
  expectStatus: readonly number[];
  withinMs: number;
  signal: AbortSignal;
  /** Why waiting is pointless now (the started process died), if it is. */
  hopeless?: () => string | undefined;
}

export type HealthResult =
  | { healthy: true; afterMs: number; attempts: number }
  | { healthy: false; afterMs: number; attempts: number; why: string };

/** Each attempt's own limit: a server that accepts and never answers costs one attempt, not the wait. */
const ATTEMPT_MS = 2000;
const BETWEEN_MS = 200;

/**
 * GET the URL until it answers with an expected status, `withinMs` passes, the run's signal aborts,
 * or `hopeless` says why no answer is coming. The last problem seen is the reason given.
 */
export async function waitHealthy(w: HealthWait): Promise<HealthResult> {
  const started = performance.now();
  const deadline = started + w.withinMs;
  let attempts = 0;
  let last = 'no answer yet';
  const result = (why: string): HealthResult => ({
    healthy: false,
    afterMs: performance.now() - started,
    attempts,
    why,
  });
  for (;;) {
    if (w.signal.aborted) return result(`aborted while waiting (last: ${last})`);
    const gone = w.hopeless?.();
    if (gone) return result(gone);
    const left = deadline - performance.now();
    if (left <= 0) return result(`not healthy within ${w.withinMs / 1000} s (last: ${last})`);
    attempts++;
    const attempt = AbortSignal.any([w.signal, AbortSignal.timeout(Math.ceil(Math.min(ATTEMPT_MS, left)))]);
    try {
      const res = await fetch(w.url, { signal: attempt, redirect: 'manual' });
      await res.body?.cancel();
      if (w.expectStatus.includes(res.status))
        return { healthy: true, afterMs: performance.now() - started, attempts };
      last = `status ${res.status}`;
    } catch (err) {
      last = describe(err);
    }
    await pause(Math.min(BETWEEN_MS, Math.max(0, deadline - performance.now())), w.signal);
  }
}

function describe(err: unknown): string {
  if ((err as Error).name === 'TimeoutError') return 'no answer in time';
  if ((err as Error).name === 'AbortError') return 'aborted';
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? String(err);
}

/** Waits `ms`, or less when the signal aborts (which the caller then sees). */
const pause = (ms: number, signal: AbortSignal) => sleep(ms, undefined, { signal }).catch(() => undefined);
