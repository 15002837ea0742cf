import { loadConfig } from '../config/load.js';
import { checkPostgres, createPool, type Pool } from '../db/pool.js';
import { DependencyError, VigilError } from '../errors.js';
import { loadRules } from '../rules/loader.js';
import type { Rule } from '../rules/schema.js';
import { EXIT_CONFIG } from './fail.js';

export interface ThresholdContext {
  pool: Pool;
  /** This config's rule set, by id, in file order. */
  rules: ReadonlyMap<string, Rule>;
  /** Where the live series are, for their current values. */
  redis: { url: string; prefix: string };
}

/** A request the thresholds commands turn down (unknown rule or key, bad value): exit 2 with why. */
export class ThresholdRefusal extends VigilError {
  constructor(readonly problems: readonly string[]) {
    super('E_THRESHOLD_REFUSED', problems.join('; '));
  }
}

/** Loads the config and its rules, connects to its database, runs `fn`, and says why on a refusal. */
export async function withThresholds(
  opts: { config?: string },
  fn: (ctx: ThresholdContext) => Promise<void>,
): Promise<void> {
  const config = loadConfig(opts.config === undefined ? {} : { file: opts.config });
  const rules = new Map(
    loadRules(config.rules.dir, config.rules.vars, process.env, config.rules.envPrefix).rules.map((r) => [
      r.id,
      r,
    ]),
  );
  const pool = createPool(config.database, 'vigil thresholds');
  try {
    await checkPostgres(pool, config.database.url);
    const { rows } = await pool.query<{ t: string | null }>(
      `SELECT to_regclass('vigil_thresholds')::text AS t`,
    );
    if (!rows[0]?.t)
      throw new DependencyError(
        'E_NOT_MIGRATED',
        `no thresholds table in schema ${config.database.schema}`,
        'run `vigil migrate` with this config (the agent also migrates when it starts)',
      );
    await fn({ pool, rules, redis: { url: config.redis.url, prefix: config.redis.prefix } });
  } catch (err) {
    if (!(err instanceof ThresholdRefusal)) throw err;
    for (const p of err.problems) process.stderr.write(`vigil: ${p}\n`);
    process.exitCode = EXIT_CONFIG;
  } finally {
    await pool.end();
  }
}
