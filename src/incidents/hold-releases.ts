import type pg from 'pg';
import type { VigilConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { FlappingJudge } from './flapping.js';
import { FlappingRelease } from './flapping-release.js';
import type { HoldJudge } from './holds.js';
import { InhibitionJudge } from './inhibit-judge.js';
import { InhibitionRelease } from './inhibit-release.js';
import { targetDestinations } from './target-destinations.js';
import type { Rule } from '../rules/schema.js';
import type { Routing } from './transitions.js';

/** The judges of rule-declared holds, in the order they decide (after silences). */
export function ruleHoldJudges(pool: pg.Pool, config: VigilConfig): HoldJudge[] {
  return [new InhibitionJudge(pool), new FlappingJudge(pool, config.oncall.flapping)];
}

/** What the sweeper runs each pass to end inhibitions and flapping episodes. */
export function holdReleases(d: {
  config: VigilConfig;
  pool: pg.Pool;
  routing: Routing;
  /** The rules running now (they change on reload). */
  rules: () => readonly Rule[];
  metrics: Metrics;
  log: Logger;
  agentId: string;
}) {
  const common = { pool: d.pool, agentId: d.agentId, metrics: d.metrics, log: d.log };
  return [
    new InhibitionRelease({
      ...common,
      destinations: targetDestinations(d.config),
      routing: d.routing,
      rules: d.rules,
    }),
    new FlappingRelease({ ...common, stableForMs: d.config.oncall.flapping.stableFor }),
  ];
}
