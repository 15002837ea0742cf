/**
 * Every error Vigil raises on purpose carries a stable `code` and says whether retrying can help.
 * Queue workers use `retryable` to decide between BullMQ's backoff and failing the job for good.
 */
export class VigilError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Bad configuration or rule files: reported with every problem and its path, exit code 2. */
export class ConfigError extends VigilError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options: { cause?: unknown } = {}) {
    super('E_CONFIG', problems.join('\n'), options);
    this.problems = problems;
  }
}

/** A dependency (PostgreSQL, Redis, Slack, SMTP) cannot be reached or refuses us. */
export class DependencyError extends VigilError {
  readonly hint: string;

  constructor(
    code: string,
    message: string,
    hint: string,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(code, message, options);
    this.hint = hint;
  }
}

/** A delivery failed in a way a later attempt may fix; `retryAfterMs` honours e.g. Slack's Retry-After. */
export class RetryableError extends VigilError {
  readonly retryAfterMs: number | undefined;

  constructor(code: string, message: string, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(code, message, { cause: options.cause, retryable: true });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * The channel itself cannot deliver anything (bad token, unknown Slack channel, SMTP login refused):
 * retrying each message would only fail again. The channel is marked failed until a check passes.
 */
export class ChannelFailedError extends VigilError {
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { cause: options.cause, retryable: false });
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
