import { errorMessage } from '../../errors.js';
import type { Logger } from '../../log.js';
import { runCommandProbe } from './command.js';
import { runHttpProbe } from './http.js';
import { processProbe } from './process.js';
import type { ProbeOutcome } from './fields.js';
import type { ClusterProbeSpec, HostProbeSpec } from './schema.js';
import { runSqlProbe } from './sql.js';
import { systemProbe } from './system.js';
import { runTcpProbe } from './tcp.js';

type Runner<K extends ClusterProbeSpec['kind']> = (
  spec: Extract<ClusterProbeSpec, { kind: K }>,
) => Promise<ProbeOutcome>;

/** One runner per cluster probe kind; a kind without a runner is a compile error. */
const runners: { [K in ClusterProbeSpec['kind']]: Runner<K> } = {
  http: runHttpProbe,
  tcp: runTcpProbe,
  sql: runSqlProbe,
  command: runCommandProbe,
};

export function runProbe(spec: ClusterProbeSpec, log?: Logger): Promise<ProbeOutcome> {
  const runner = runners[spec.kind] as Runner<ClusterProbeSpec['kind']>;
  return guarded(spec, () => runner(spec), log);
}

/**
 * A host probe's runner, made once per probe: CPU % is measured since its previous run, so the
 * runner keeps that run's sample.
 */
export function hostProbeRunner(spec: HostProbeSpec, log?: Logger): () => Promise<ProbeOutcome> {
  const run = spec.kind === 'process' ? processProbe(spec) : systemProbe(spec);
  return () => guarded(spec, run, log);
}

/** Past the probe's own timeout: a runner that fails to honour it is cut off this much later. */
const backstopMs = 250;

/**
 * Every run ends as an observation: a runner that throws (a bug, an unreadable /proc) or does not
 * honour its timeout becomes a failed one with the reason, never an error out of the worker or a
 * run that holds a worker's slot for good.
 */
async function guarded(
  spec: { name: string; timeout: number },
  run: () => Promise<ProbeOutcome>,
  log: Logger | undefined,
): Promise<ProbeOutcome> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const cutOff = new Promise<ProbeOutcome>((resolve) => {
    timer = setTimeout(() => {
      log?.warn({ probe: spec.name, timeout: spec.timeout }, 'probe did not end at its timeout; cut off');
      resolve(failFrom(`timed out after ${spec.timeout} ms`, started));
    }, spec.timeout + backstopMs);
  });
  try {
    return await Promise.race([run(), cutOff]);
  } catch (err) {
    log?.warn({ probe: spec.name, err: errorMessage(err) }, 'probe crashed');
    return failFrom(`probe crashed: ${errorMessage(err)}`, started);
  } finally {
    clearTimeout(timer);
  }
}

const failFrom = (error: string, started: number): ProbeOutcome => ({
  ok: false,
  value: performance.now() - started,
  data: { error },
});
