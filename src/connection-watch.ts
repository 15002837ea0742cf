import { errorMessage } from './errors.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

export type Dependency = 'redis' | 'postgres';

/** What one connection reports: every error, and each time it is (again) usable. */
export interface ConnectionEvents {
  error(err: unknown): void;
  ok(): void;
}

/**
 * Turns the connection errors of one dependency into what an operator can use: every error is
 * counted (`vigil_connection_errors_total`), the first of an outage is logged with the target,
 * the recovery is logged once with how long it lasted — and nothing in between, however many
 * reconnect attempts a long outage makes.
 */
export class ConnectionWatch {
  private readonly down = new Set<string>();
  private since = 0;
  private errors = 0;

  constructor(
    readonly dependency: Dependency,
    /** Where it connects, already safe to print (password redacted). */
    private readonly target: string,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** The events of one named connection (several share a dependency: an outage is logged once). */
  connection(name: string): ConnectionEvents {
    return { error: (err) => this.error(name, err), ok: () => this.ok(name) };
  }

  private error(name: string, err: unknown): void {
    this.metrics.inc('vigil_connection_errors_total', { dependency: this.dependency });
    this.errors++;
    if (this.down.has(name)) return;
    this.down.add(name);
    if (this.down.size > 1) return;
    this.since = Date.now();
    this.errors = 1;
    this.log.warn(
      {
        dependency: this.dependency,
        target: this.target,
        connection: name,
        code: (err as { code?: string }).code,
        err: errorMessage(err),
      },
      `lost connection to ${this.dependency}; reconnecting (further errors are counted, not logged)`,
    );
  }

  private ok(name: string): void {
    if (!this.down.delete(name) || this.down.size > 0) return;
    this.log.info(
      {
        dependency: this.dependency,
        target: this.target,
        downMs: Date.now() - this.since,
        errors: this.errors,
      },
      `connection to ${this.dependency} is back`,
    );
  }
}
