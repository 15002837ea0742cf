import { Redis, type RedisOptions } from 'ioredis';
import type { ConnectionEvents } from '../connection-watch.js';
import { DependencyError, errorMessage } from '../errors.js';
import { redactUrl } from '../log.js';

export type { Redis };

/**
 * Both roles wait for Redis to come back rather than fail a command: workers must (BullMQ requires
 * `maxRetriesPerRequest: null`), and for producers a queued event that waits out an outage beats
 * one that is dropped. Callers that must not wait (health checks) bound the wait themselves.
 */
export function createRedis(
  url: string,
  role: 'worker' | 'client',
  name: string,
  extra: RedisOptions = {},
  /** Where connection errors and recoveries go (see ConnectionWatch); without it they are dropped. */
  events?: ConnectionEvents,
): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // Named per prefix so operators (and the tests' leak checks) can tell whose connection it is.
    connectionName: `vigil-${name}-${role}`,
    retryStrategy: (times) => Math.min(times * 200, 5000),
    ...extra,
  });
  // A listener is needed either way: an unhandled 'error' would crash the agent.
  redis.on('error', (err) => events?.error(err));
  redis.on('ready', () => events?.ok());
  return redis;
}

/** A connection for one short job (a check, a CLI read): it fails at once rather than reconnect. */
export function oneShotRedis(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3000,
    enableOfflineQueue: false,
  });
}

/**
 * Checks Redis is reachable and will not evict queue keys. A one-shot connection so an
 * unreachable server gives one clear error rather than endless reconnects.
 */
export async function checkRedis(url: string): Promise<void> {
  const redis = oneShotRedis(url);
  // connect() only rejects with "Connection is closed"; the reason (ECONNREFUSED, …) comes as an event.
  let reason: unknown;
  redis.on('error', (err) => (reason ??= err));
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    const cause = reason ?? err;
    throw new DependencyError(
      'E_REDIS_UNREACHABLE',
      `cannot reach Redis at ${redactUrl(url)}: ${(cause as { code?: string }).code ?? errorMessage(cause)}`,
      'start Redis (e.g. `docker compose up -d redis`) or set REDIS_URL / redis.url',
      { cause: err, retryable: true },
    );
  }
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy !== undefined && policy !== 'noeviction') {
      throw new DependencyError(
        'E_REDIS_EVICTION',
        `Redis at ${redactUrl(url)} has maxmemory-policy=${policy}: it may silently drop queued alerts`,
        `run \`${redisCli(url)} CONFIG SET maxmemory-policy noeviction\` and set it in redis.conf`,
      );
    }
  } catch (err) {
    if (err instanceof DependencyError) throw err;
    // Managed Redis often forbids CONFIG; BullMQ itself warns then, so we do not block startup.
  } finally {
    redis.disconnect();
  }
}

/** The redis-cli invocation that reaches the server of `url`, without its password. */
export function redisCli(url: string): string {
  const u = new URL(url);
  const args = ['redis-cli', '-h', u.hostname || '127.0.0.1', '-p', u.port || '6379'];
  if (u.protocol === 'rediss:') args.push('--tls');
  if (u.username && u.username !== 'default') args.push('--user', decodeURIComponent(u.username));
  if (u.password) args.push('--askpass');
  return args.join(' ');
}
