import { VigilError } from '../../errors.js';
import { runHttpProbe } from './http.js';
import type { ProbeSpec } from './schema.js';

export interface ProbeOutcome {
  ok: boolean;
  value: number;
  data: Record<string, unknown>;
}

type Runner<K extends ProbeSpec['kind']> = (spec: Extract<ProbeSpec, { kind: K }>) => Promise<ProbeOutcome>;

/** One runner per probe kind; a kind without a runner is caught at boot, not at the first run. */
const runners: { [K in ProbeSpec['kind']]: Runner<K> } = {
  http: runHttpProbe,
};

export function runProbe(spec: ProbeSpec): Promise<ProbeOutcome> {
  const runner = runners[spec.kind] as Runner<ProbeSpec['kind']> | undefined;
  if (!runner) throw new VigilError('E_PROBE_KIND', `no runner for probe kind "${spec.kind}"`);
  return runner(spec);
}
