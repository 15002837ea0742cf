import type pg from 'pg';
import type { VigilConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Rule } from '../rules/schema.js';
import { FlappingJudge } from './flapping.js';
import { FlappingRelease } from './flapping-release.js';
import type { HoldJudge } from './holds.js';
import { InhibitionJudge } from './inhibit-judge.js';
import { InhibitionRelease, type TargetNames } from './inhibit-release.js';

/** The judges of rule-declared holds, in the order they decide (after silences). */
export function ruleHoldJudges(pool: pg.Pool, config: VigilConfig): HoldJudge[] {
  return [new InhibitionJudge(pool), new FlappingJudge(pool, config.oncall.flapping)];
}

/**
 * The sweeper's passes that end inhibitions and flapping episodes. A failed pass is logged and
 * tried again next sweep; it must not keep the sweep from delivering what is owed.
 */
export function holdReleases(d: {
  config: VigilConfig;
  pool: pg.Pool;
  targets: TargetNames;
  /** The rules running now (they change on reload). */
  rules: () => readonly Rule[];
  metrics: Metrics;
  log: Logger;
  agentId: string;
}): Array<{ name: string; tick(): Promise<void> }> {
  const common = { pool: d.pool, agentId: d.agentId, metrics: d.metrics, log: d.log };
  const releases = [
    { name: 'inhibition', release: new InhibitionRelease({ ...common, targets: d.targets, rules: d.rules }) },
    {
      name: 'flapping',
      release: new FlappingRelease({ ...common, stableForMs: d.config.oncall.flapping.stableFor }),
    },
  ];
  return releases.map(({ name, release }) => ({
    name,
    tick: () =>
      release.tick().then(
        () => undefined,
        (err: unknown) =>
          d.log.warn({ pass: name, err: errorMessage(err) }, 'hold release failed; next sweep tries again'),
      ),
  }));
}
