import { randomUUID } from 'node:crypto';
import type { Redis } from '../queues/connection.js';

// A key Redis lost (restarted empty) is taken again: PostgreSQL's one-running-run-per-target index
// still holds, so a Redis restart need not cut every run in flight short.
const renewScript = `local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
const releaseScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** A held per-target lock: renew it while working, release it when done. */
export interface TargetLock {
  /** False when the lease was lost (expired, Redis came back empty and another agent took it). */
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * One run at a time per target, across agents: `SET NX PX` with a random token, renewed while the
 * run goes on and released only by its holder. An agent that dies frees the target after the lease.
 * Redis losing the key (a restart) could let a second one in; PostgreSQL then refuses a second
 * `running` row for the target (a unique index, see RunStore.claim).
 */
export async function lockTarget(
  redis: Redis,
  prefix: string,
  target: string,
  leaseMs: number,
): Promise<TargetLock | undefined> {
  const key = `${prefix}:remediate-lock:${target}`;
  const token = randomUUID();
  const ok = await redis.set(key, token, 'PX', leaseMs, 'NX');
  if (ok !== 'OK') return undefined;
  return {
    renew: async () => Number(await redis.eval(renewScript, 1, key, token, String(leaseMs))) === 1,
    release: async () => void (await redis.eval(releaseScript, 1, key, token)),
  };
}
