import type { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';

/**
 * One clock for every stand-in (Slack, SMTP, HELIX), so tests can order events across them
 * and measure detection-to-notification latency without wall-clock jumps.
 */
export function hrNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Resolves with the first record, already seen or still to come, that matches. Event-driven so
 * tests never sleep-poll; shared by the stand-ins so they all time out the same way.
 */
export function waitForRecord<T>(
  emitter: EventEmitter,
  event: string,
  past: readonly T[],
  predicate: (record: T) => boolean,
  timeoutMs: number,
  describe: () => string,
): Promise<T> {
  const seen = past.find(predicate);
  if (seen !== undefined) return Promise.resolve(seen);
  return new Promise<T>((resolve, reject) => {
    const onRecord = (record: T): void => {
      let matched: boolean;
      try {
        matched = predicate(record);
      } catch (err) {
        finish();
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (!matched) return;
      finish();
      resolve(record);
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`${describe()}: nothing matched within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      emitter.off(event, onRecord);
    };
    emitter.on(event, onRecord);
  });
}
