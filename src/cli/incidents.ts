import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { VigilConfig } from '../config/schema.js';
import { checkMigrated, checkPostgres, createPool, type Pool } from '../db/pool.js';
import { VigilError } from '../errors.js';
import { oneShotRedis } from '../queues/connection.js';
import { seriesRestarter } from '../rules/series-restart.js';
import { IncidentActions } from '../incidents/actions.js';
import { listIncidents, stateFilters, type StateFilter } from '../incidents/incident-list.js';
import { readTimeline } from '../incidents/timeline.js';
import { incidentStory, incidentTable } from './incidents-print.js';

/** Exit codes of `vigil incidents`: documented in its --help. */
const EXIT_CHANGED = 0;
const EXIT_NOTHING = 1;
const EXIT_BAD_INPUT = 2;

/** Bad input on the command line: one line saying which and why, exit 2. */
class IncidentsUsage extends VigilError {
  constructor(message: string) {
    super('E_INCIDENTS_USAGE', message);
  }
}

interface Common {
  config?: string;
  json?: boolean;
}

async function withPool(
  opts: Common,
  fn: (pool: Pool, config: VigilConfig) => Promise<number>,
): Promise<void> {
  try {
    const config = loadConfig(opts.config === undefined ? {} : { file: opts.config });
    const pool = createPool(config.database, 'vigil incidents');
    try {
      await checkPostgres(pool, config.database.url);
      await checkMigrated(pool, config.database.schema);
      process.exitCode = await fn(pool, config);
    } finally {
      await pool.end();
    }
  } catch (err) {
    if (!(err instanceof IncidentsUsage)) throw err;
    process.stderr.write(`vigil: ${err.message}\n`);
    process.exitCode = EXIT_BAD_INPUT;
  }
}

const incidentId = (text: string) => {
  const id = text.replace(/^#/, '');
  if (!/^\d{1,18}$/.test(id))
    throw new IncidentsUsage(`"${text}" is not an incident number (e.g. 12 or #12)`);
  return id;
};

function runList(opts: Common & { state: string; rule?: string; limit: string }): Promise<void> {
  return withPool(opts, async (pool, config) => {
    if (!(stateFilters as readonly string[]).includes(opts.state))
      throw new IncidentsUsage(`--state must be one of ${stateFilters.join(', ')}, not "${opts.state}"`);
    const limit = Number(opts.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new IncidentsUsage(`--limit must be a whole number from 1 to 1000, not "${opts.limit}"`);
    const incidents = await listIncidents(pool, { state: opts.state as StateFilter, rule: opts.rule, limit });
    console.log(
      opts.json ? JSON.stringify(incidents, null, 2) : incidentTable(incidents, config.oncall.timeZone),
    );
    return EXIT_CHANGED;
  });
}

function runShow(id: string, opts: Common): Promise<void> {
  return withPool(opts, async (pool, config) => {
    const timeline = await readTimeline(pool, incidentId(id));
    if (!timeline) {
      process.stderr.write(`vigil: no incident #${incidentId(id)}\n`);
      return EXIT_NOTHING;
    }
    console.log(
      opts.json ? JSON.stringify(timeline, null, 2) : incidentStory(timeline, config.oncall.timeZone),
    );
    return EXIT_CHANGED;
  });
}

type ActionOpts = Common & { by?: string; note?: string };

function runAction(action: 'ack' | 'unack' | 'resolve', id: string, opts: ActionOpts): Promise<void> {
  return withPool(opts, async (pool, config) => {
    // Resolving by hand starts the series over in Redis, so a condition that still holds fires again.
    const redis = oneShotRedis(config.redis.url);
    const actions = new IncidentActions({
      pool,
      leaseForMs: config.notify.leaseFor,
      ackExpiryMs: config.oncall.ackExpiry,
      restartSeries: async (fp) => {
        await redis.connect();
        await seriesRestarter(redis, config.redis.prefix)(fp);
      },
    });
    const by = opts.by?.trim() || process.env.USER || userInfo().username;
    const outcome = await actions[action](incidentId(id), { name: by, via: 'cli' }, opts.note).finally(() =>
      redis.disconnect(),
    );
    if (opts.json) console.log(JSON.stringify(outcome, null, 2));
    else if (outcome.changed) console.log(outcome.message);
    else process.stderr.write(`vigil: ${outcome.message}\n`);
    return outcome.changed ? EXIT_CHANGED : EXIT_NOTHING;
  });
}

const exitCodes = `
Exit codes: 0 done (for ack/unack/resolve: changed); 1 nothing to do (already in that state, no
such incident) with the reason on stderr, or a failure (database unreachable); 2 bad input (an id
that is not a number, an unknown --state) or an invalid config.`;

/** Registers `vigil incidents list|show|ack|unack|resolve`. */
export function registerIncidentCommands(program: Command, withConfig: (cmd: Command) => Command): void {
  const cmd = program
    .command('incidents')
    .description('list incidents, show one with its timeline, acknowledge, un-acknowledge, resolve')
    .addHelpText('after', exitCodes);
  withConfig(
    cmd.command('list').description('incidents, newest first: id, state, severity, rule, since, who acked'),
  )
    .option('--state <state>', `${stateFilters.join('|')} (open: not resolved)`, 'open')
    .option('--rule <id>', 'only this rule')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print them as JSON')
    .addHelpText('after', exitCodes)
    .action((opts: Common & { state: string; rule?: string; limit: string }) => runList(opts));
  withConfig(
    cmd
      .command('show <id>')
      .description(
        'one incident and its timeline: transitions, notifications, escalations, remediation runs',
      ),
  )
    .option('--json', 'print it as JSON')
    .addHelpText('after', exitCodes)
    .action((id: string, opts: Common) => runShow(id, opts));
  const verbs = {
    ack: 'acknowledge: stops escalation (the acknowledgement lapses after oncall.ackExpiry)',
    unack: 'take an acknowledgement back: firing again, escalation restarts',
    resolve: 'resolve by hand (if the condition still holds, the series fires again as a new incident)',
  } as const;
  for (const [action, description] of Object.entries(verbs) as [keyof typeof verbs, string][]) {
    withConfig(cmd.command(`${action} <id>`).description(description))
      .option('--by <name>', 'who (default: $USER)')
      .option('--note <text>', 'why (kept in the audit trail)')
      .option('--json', 'print the outcome as JSON')
      .addHelpText('after', exitCodes)
      .action((id: string, opts: ActionOpts) => runAction(action, id, opts));
  }
}
