import { userInfo } from 'node:os';
import { loadConfig } from '../config/load.js';
import type { VigilConfig } from '../config/schema.js';
import type { ChannelName } from '../contracts/channels.js';
import { actorText } from '../contracts/incident.js';
import { checkMigrated, checkPostgres, createPool, type Pool } from '../db/pool.js';
import { VigilError, errorMessage } from '../errors.js';
import { checkRedis, createRedis } from '../queues/connection.js';
import { closeQueues, createQueues, type Queues } from '../queues/queues.js';
import { formatDuration } from '../config/duration.js';
import { RemediationRecord } from '../remediate/record.js';
import { RunStore } from '../remediate/runs.js';

/** Exit codes of `vigil remediation`, as `vigil incidents`: documented in its --help. */
export const EXIT_DONE = 0;
export const EXIT_NOTHING = 1;
export const EXIT_BAD_INPUT = 2;

export const exitCodes = `
Exit codes: 0 done (for approve/reject/enable: changed); 1 nothing to do (no such run, already
decided, expired, not switched off) with the reason on stderr, or a failure (database unreachable);
2 bad input (a run id that is not a number, an unknown --state or target) or an invalid config.`;

/** Bad input on the command line: one line saying which and why, exit 2. */
export class RemediationUsage extends VigilError {
  constructor(message: string) {
    super('E_REMEDIATION_USAGE', message);
  }
}

export interface Ctx {
  config: VigilConfig;
  pool: Pool;
  store: RunStore;
  /** The agents' queues on the configured Redis; undefined when it is unreachable (an agent's sweeper then does it, later). */
  queues: Queues | undefined;
  record: RemediationRecord;
}

/** "dana (cli)": who acted, as the audit trail writes it. */
export const cliActor = (by: string | undefined) =>
  actorText({ name: by?.trim() || process.env.USER || userInfo().username, via: 'cli' });

/** A run id as typed ("12" or "run 12" is not: only digits): bad input otherwise. */
export function runIdOf(text: string): string {
  if (!/^\d{1,18}$/.test(text)) throw new RemediationUsage(`"${text}" is not a run number (e.g. 12)`);
  return text;
}

/**
 * Loads the config, connects to PostgreSQL (and to Redis when `queues` is asked for: an approved
 * run and the thread's note are then queued at once rather than at an agent's next sweep), runs
 * `fn`, sets the exit code it returns; bad input is one line on stderr and exit 2.
 */
export async function withRemediation(
  opts: { config?: string },
  fn: (c: Ctx) => Promise<number>,
  queues = false,
): Promise<void> {
  try {
    const config = loadConfig(opts.config === undefined ? {} : { file: opts.config });
    const pool = createPool(config.database, 'vigil remediation');
    try {
      await checkPostgres(pool, config.database.url);
      await checkMigrated(pool, config.database.schema);
      process.exitCode = await withQueues(config, queues, async (q) => {
        const enqueue = async (lease: string, channels: readonly ChannelName[]) => {
          if (!q) return;
          await Promise.all(
            channels.map((c) =>
              q.notify[c].add('deliver', { lease: `${lease}.${c}` }, { jobId: `${lease}.${c}` }),
            ),
          );
        };
        const record = new RemediationRecord(pool, config.notify.leaseFor, enqueue);
        return fn({ config, pool, store: new RunStore(pool), queues: q, record });
      });
    } finally {
      await pool.end();
    }
  } catch (err) {
    if (!(err instanceof RemediationUsage)) throw err;
    process.stderr.write(`vigil: ${err.message}\n`);
    process.exitCode = EXIT_BAD_INPUT;
  }
}

async function withQueues(
  config: VigilConfig,
  wanted: boolean,
  fn: (q: Queues | undefined) => Promise<number>,
): Promise<number> {
  if (!wanted) return fn(undefined);
  try {
    await checkRedis(config.redis.url);
  } catch (err) {
    // The row is the truth: an agent's sweeper queues what is owed; only later.
    const within = formatDuration(Math.max(config.remediation.leaseFor, config.notify.leaseFor));
    process.stderr.write(
      `vigil: ${errorMessage(err)}; an agent's sweeper hands this on within about ${within} instead\n`,
    );
    return fn(undefined);
  }
  const redis = createRedis(config.redis.url, 'client', `${config.redis.prefix}-cli`);
  const queues = createQueues(redis, config.redis.prefix);
  try {
    return await fn(queues);
  } finally {
    await closeQueues(queues);
    await redis.quit();
  }
}
