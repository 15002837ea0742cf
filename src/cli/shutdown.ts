import type { Logger } from '../log.js';

/**
 * The one shutdown path: the first SIGINT/SIGTERM runs `close` under a deadline; a second signal,
 * or the deadline passing, forces the process out.
 */
export function closeOnSignals(close: () => Promise<void>, deadlineMs: number, log: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: forcing exit');
      process.exit(130);
    }
    stopping = true;
    log.info({ signal, deadlineMs }, 'shutting down');
    const deadline = setTimeout(() => {
      log.error({ deadlineMs }, 'shutdown deadline passed: forcing exit');
      process.exit(1);
    }, deadlineMs);
    deadline.unref();
    close().then(
      () => {
        clearTimeout(deadline);
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
