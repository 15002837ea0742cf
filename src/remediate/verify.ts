import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from '../config/duration.js';
import type { Rule } from '../rules/schema.js';
import { hostProbeRunner, runProbe } from '../sources/probes/registry.js';
import type { ProbeOutcome } from '../sources/probes/fields.js';
import { clusterProbeKinds, type ClusterProbeSpec, type HostProbeSpec } from '../sources/probes/schema.js';

export interface Verification {
  /** null: the rule has no probe to re-run; only the incident firing again can tell. */
  verified: boolean | null;
  detail: string;
}

/**
 * Re-runs the rule's own probe after an action: from `after`, until it passes or `within` ends.
 * The probe is the rule's spec from this agent's rule files, never anything from the job.
 */
export async function verifyByProbe(
  rule: Rule,
  timing: { after: number; within: number },
  signal: AbortSignal,
): Promise<Verification> {
  const probe = rule.probe;
  if (!probe)
    return {
      verified: null,
      detail: 'no probe to re-run: the incident firing again would count it as failed',
    };
  const run: () => Promise<ProbeOutcome> = (clusterProbeKinds as readonly string[]).includes(probe.kind)
    ? () => runProbe(probe as ClusterProbeSpec)
    : hostProbeRunner(probe as HostProbeSpec);
  const started = Date.now();
  const deadline = started + timing.after + timing.within;
  await sleep(timing.after, undefined, { signal }).catch(() => undefined);
  let tries = 0;
  let last: ProbeOutcome | undefined;
  while (!signal.aborted) {
    tries++;
    last = await run();
    if (last.ok)
      return {
        verified: true,
        detail: `probe ${probe.name} passed ${formatDuration(Date.now() - started)} after the action (try ${tries})`,
      };
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(1000, left), undefined, { signal }).catch(() => undefined);
  }
  if (tries === 0)
    return { verified: null, detail: `probe ${probe.name} not re-run: stopped before it could` };
  const why = typeof last?.data.error === 'string' ? `: ${last.data.error}` : '';
  return {
    verified: false,
    detail: `probe ${probe.name} still failing ${formatDuration(Date.now() - started)} after the action (${tries} tries)${why}`,
  };
}
