import { formatDuration } from '../../config/duration.js';
import type { ActionContext, ActionResult } from '../action.js';
import { findServicePids } from './pids.js';
import type { RestartServiceSpec } from './spec.js';
import { stopProcesses } from './stop.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * find-pids, then SIGTERM and SIGKILL as needed: what was stopped ("pid 4242, SIGTERM") for the
 * summary, or the run's result when it cannot go on.
 */
export async function stopService(
  spec: RestartServiceSpec,
  ctx: ActionContext,
): Promise<{ stopped: string } | ActionResult> {
  const found = await findServicePids(spec);
  if (found.stalePidfile) await ctx.step('pidfile', 'skipped', found.stalePidfile);
  const unreadable = found.unreadable.length
    ? `; not checked (cwd not readable, another user's): pid ${found.unreadable.join(', ')}`
    : '';
  const pids = found.pids.join(', ');
  await ctx.step('find-pids', 'ok', `${pids ? `pid ${pids}` : 'none running'} by ${found.how}${unreadable}`);
  if (found.pids.length === 0) {
    await ctx.step('stop', 'skipped', 'nothing to stop');
    return { stopped: 'was not running' };
  }
  // Not cut short by the run's signal (see stopProcesses): bounded by the grace period anyway.
  const r = await stopProcesses(found.pids, spec.grace);
  const list = (p: number[]) => `pid ${p.join(', ')}`;
  const term = [
    r.termed.length ? `${list(r.termed)} exited in ${seconds(r.tookMs)}` : '',
    r.afterGrace.length ? `${list(r.afterGrace)} still alive after ${formatDuration(spec.grace)}` : '',
    ...r.termFailed,
  ].filter(Boolean);
  await ctx.step(
    'sigterm',
    r.termFailed.length ? 'failed' : 'ok',
    term.join('; ') || 'every process was gone',
  );
  if (r.afterGrace.length === 0)
    await ctx.step('sigkill', 'skipped', 'not needed: every process exited after SIGTERM');
  else
    await ctx.step(
      'sigkill',
      r.stuck.length ? 'failed' : 'ok',
      [r.killed.length ? `killed ${list(r.killed)}` : '', ...r.stuck].filter(Boolean).join('; '),
    );
  const failures = [...r.termFailed, ...r.stuck];
  if (failures.length === 0)
    return { stopped: `${list(found.pids)} stopped by ${r.afterGrace.length ? 'SIGKILL' : 'SIGTERM'}` };
  const why = `could not stop ${failures.join('; ')}`;
  return { outcome: 'failed', summary: `could not restart ${ctx.target}: ${why}` };
}
