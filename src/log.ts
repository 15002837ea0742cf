import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths that may carry secrets anywhere in a log record. */
export const redactPaths = [
  'token',
  '*.token',
  'apiToken',
  '*.apiToken',
  'signingSecret',
  '*.signingSecret',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'config.slack.token',
  'config.slack.signingSecret',
  'config.http.apiToken',
];

/** Hides the password part of a connection URL so it can be printed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? process.env.VIGIL_LOG_LEVEL ?? 'info',
    base: { app: 'vigil' },
    redact: { paths: redactPaths, censor: '[redacted]' },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
