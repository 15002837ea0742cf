import type { VigilConfig } from '../config/schema.js';
import type { Health } from '../health.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { checkTargets, describeTargetProblem, type TargetProblem } from './reachability.js';

/**
 * At start: a target that cannot be paged is said now, in one log line each, in /healthz and in
 * vigil_targets_unreachable, not found out during an incident. The agent starts regardless; a
 * target Slack could not be asked about is a warning only (Slack may be away for a moment).
 */
export async function reportTargets(d: {
  config: VigilConfig;
  log: Logger;
  health: Health;
  metrics: Metrics;
}): Promise<TargetProblem[]> {
  const log = d.log.child({ component: 'targets' });
  const problems = await checkTargets(d.config, log);
  const unreachable = problems.filter((p) => p.verdict === 'unreachable');
  d.metrics.gauge('vigil_targets_unreachable', {}, () => unreachable.length);
  for (const p of problems) {
    const line = describeTargetProblem(p);
    if (p.verdict === 'unchecked') log.warn({ target: p.target }, line);
    else {
      log.error({ target: p.target }, line);
      d.health.set(`target.${p.target}`, line);
    }
  }
  return problems;
}
