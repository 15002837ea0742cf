import { pino, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import { ConfigError } from './errors.js';

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

export type LogFormat = 'json' | 'pretty';

/**
 * Human-readable lines for a person at a terminal, JSON for everything else (files, pipes, log
 * shippers). VIGIL_LOG_FORMAT=json|pretty overrides the guess.
 */
export function logFormat(env: string | undefined, isTTY: boolean): LogFormat {
  if (env === undefined || env === '' || env === 'auto') return isTTY ? 'pretty' : 'json';
  if (env === 'json' || env === 'pretty') return env;
  throw new ConfigError([`VIGIL_LOG_FORMAT: must be json, pretty or auto, got "${env}"`]);
}

const { chindingsSym } = pino.symbols;

/**
 * Keeps each key once in a child's bindings, the innermost value winning: a component that makes
 * a child of a child it was given (`component: notify` → `component: slack-web-api`) would
 * otherwise print the key twice in one JSON line, which many log pipelines reject or mangle.
 */
function dedupeBindings(child: Logger): void {
  // pino keeps bindings as a pre-serialised `,"key":value` string; re-parsing it keeps the last value.
  const holder = child as unknown as Record<symbol, string>;
  const chindings = holder[chindingsSym] ?? '';
  if (!chindings) return;
  const merged = JSON.stringify(JSON.parse(`{${chindings.slice(1)}}`));
  holder[chindingsSym] = merged === '{}' ? '' : `,${merged.slice(1, -1)}`;
}

export function createLogger(
  options: { level?: string; destination?: pino.DestinationStream; format?: LogFormat } = {},
): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? process.env.VIGIL_LOG_LEVEL ?? 'info',
    base: { app: 'vigil' },
    redact: { paths: redactPaths, censor: '[redacted]' },
    onChild: dedupeBindings,
  };
  const format =
    options.format ??
    (options.destination ? 'json' : logFormat(process.env.VIGIL_LOG_FORMAT, process.stdout.isTTY === true));
  if (format === 'pretty') {
    // Synchronous: the lines of a forced exit (second Ctrl-C) are not lost.
    const stream = pretty({
      sync: true,
      ignore: 'pid,hostname,app,component',
      messageFormat: '{if component}[{component}] {end}{msg}',
      singleLine: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ...(options.destination ? { destination: options.destination } : {}),
    });
    return pino(opts, stream);
  }
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
