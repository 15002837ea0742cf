import { loadConfig } from '../config/load.js';
import { pendingMigrations } from '../db/migrate.js';
import { checkPostgres, createPool } from '../db/pool.js';
import { DependencyError, errorMessage } from '../errors.js';
import type { VigilConfig } from '../config/schema.js';
import { createLogger, redactUrl, type Logger } from '../log.js';
import { checkTargets, describeTargetProblem } from '../notify/reachability.js';
import { createChannels } from '../notify/registry.js';
import { checkRedis } from '../queues/connection.js';
import { loadRules } from '../rules/loader.js';

interface Check {
  name: string;
  run(): Promise<string>;
}

/** Runs every check even when one fails, prints ✓/✗ with the fix, exits 1 if anything is wrong. */
export async function runDoctor(opts: { config?: string }): Promise<void> {
  const config = loadConfig(opts.config === undefined ? {} : { file: opts.config });
  const log = createLogger({ level: 'silent' });
  const checks: Check[] = [
    {
      name: 'rules',
      run: async () => {
        const set = loadRules(config.rules.dir, config.rules.vars, process.env, config.rules.envPrefix);
        return `${set.rules.length} rule(s), ${set.probes.length} probe(s) in ${config.rules.dir}`;
      },
    },
    {
      name: 'postgres',
      run: async () => {
        const pool = createPool(config.database, 'vigil doctor');
        try {
          await checkPostgres(pool, config.database.url);
          const pending = await pendingMigrations(pool);
          const where = `${redactUrl(config.database.url)} schema ${config.database.schema}`;
          // Not a problem: `vigil start` applies them (under a lock, so many agents may start at once).
          if (pending.length) {
            return `${where}, ${pending.length} migration(s) pending (${pending.join(', ')}): \`vigil start\` applies them, or run \`vigil migrate\` first`;
          }
          return `${where}, migrations up to date`;
        } finally {
          await pool.end();
        }
      },
    },
    {
      name: 'redis',
      run: async () => {
        await checkRedis(config.redis.url);
        return `${redactUrl(config.redis.url)} (maxmemory-policy noeviction), prefix ${config.redis.prefix}`;
      },
    },
  ];
  const channels = createChannels(config, log);
  for (const [name, channel] of channels) checks.push({ name, run: () => channel.check() });
  checks.push(targetsCheck(config, log));
  if (channels.size === 0) {
    checks.push({
      name: 'notify',
      run: async () => {
        throw new DependencyError(
          'E_NO_CHANNELS',
          'no notification channel configured',
          'add a `slack:` or `email:` section',
        );
      },
    });
  }
  let failed = 0;
  for (const check of checks) {
    try {
      console.log(`✓ ${check.name}: ${await check.run()}`);
    } catch (err) {
      failed++;
      const hint = err instanceof DependencyError ? `\n    fix: ${err.hint}` : channelHint(check.name);
      console.log(`✗ ${check.name}: ${errorMessage(err)}${hint}`);
    }
  }
  await Promise.allSettled([...channels.values()].map((c) => c.close()));
  if (failed) {
    console.log(`${failed} problem(s) found`);
    process.exitCode = 1;
  } else console.log('all good');
}

/** Every target's Slack channel, mention and addresses: each one that cannot be paged on a line. */
function targetsCheck(config: VigilConfig, log: Logger): Check {
  return {
    name: 'targets',
    run: async () => {
      const problems = await checkTargets(config, log);
      if (problems.length) throw new Error(problems.map(describeTargetProblem).join('\n    '));
      const names = [
        ...(config.slack ? ['slack'] : []),
        ...(config.email ? ['email'] : []),
        ...Object.keys(config.targets),
      ];
      return `${names.length} target(s) can be paged: ${names.join(', ') || 'none'}`;
    },
  };
}

/** A channel that cannot be reached on a machine without Slack or a mail server: say what stands in. */
function channelHint(name: string): string {
  if (name !== 'slack' && name !== 'email') return '';
  return `\n    fix: check the ${name} section; to try Vigil without a Slack workspace or mail server, run \`npx vigil receivers\` and set what it prints (or remove the ${name}: section)`;
}
