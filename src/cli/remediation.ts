import type { Command } from 'commander';
import { formatDuration } from '../config/duration.js';
import { decide } from '../remediate/decide.js';
import { listRuns } from '../remediate/run-list.js';
import { runStates, type RunState } from '../remediate/runs.js';
import { runTable } from './remediation-print.js';
import {
  EXIT_DONE,
  EXIT_NOTHING,
  RemediationUsage,
  cliActor,
  exitCodes,
  runIdOf,
  withRemediation,
} from './remediation-context.js';
import { runDisabled, runEnable, runRetry, runTargets } from './remediation-targets.js';

interface ListOptions {
  config?: string;
  incident?: string;
  state?: string;
  limit: string;
  json?: boolean;
}

function runList(opts: ListOptions): Promise<void> {
  return withRemediation(opts, async ({ pool, config }) => {
    const incident = opts.incident?.replace(/^#/, '');
    if (incident !== undefined && !/^\d{1,18}$/.test(incident))
      throw new RemediationUsage(`--incident "${opts.incident}" is not an incident number (e.g. 12 or #12)`);
    if (opts.state !== undefined && !(runStates as readonly string[]).includes(opts.state))
      throw new RemediationUsage(`--state must be one of ${runStates.join(', ')}, not "${opts.state}"`);
    const limit = Number(opts.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new RemediationUsage(`--limit must be a whole number from 1 to 1000, not "${opts.limit}"`);
    const runs = await listRuns(pool, { incidentId: incident, state: opts.state as RunState, limit });
    console.log(opts.json ? JSON.stringify(runs, null, 2) : runTable(runs, config.oncall.timeZone));
    return EXIT_DONE;
  });
}

type DecideOptions = { config?: string; by?: string; json?: boolean };

function runDecide(approve: boolean, text: string, opts: DecideOptions): Promise<void> {
  return withRemediation(
    opts,
    async ({ store, record, queues, config }) => {
      const id = runIdOf(text);
      const run = await store.get(id);
      const outcome = run
        ? await decide(
            { store, record, agentId: 'cli', ...(queues ? { queue: queues.remediate } : {}) },
            run.incidentId,
            id,
            approve,
            cliActor(opts.by),
          )
        : { changed: false, message: `no remediation run ${id}` };
      let message = outcome.message;
      if (outcome.changed && approve) {
        message += queues
          ? ': queued to run now'
          : `: an agent's sweeper queues it within about ${formatDuration(config.remediation.leaseFor + config.notify.sweepEvery)}`;
      }
      if (opts.json) console.log(JSON.stringify({ ...outcome, message, run: await store.get(id) }, null, 2));
      else if (outcome.changed) console.log(message);
      else process.stderr.write(`vigil: ${message}\n`);
      return outcome.changed ? EXIT_DONE : EXIT_NOTHING;
    },
    true,
  );
}

/** Registers `vigil remediation list|approve|reject|disabled|enable|retry|targets`. */
export function registerRemediationCommands(program: Command, withConfig: (cmd: Command) => Command): void {
  const cmd = program
    .command('remediation')
    .description('auto-remediation runs: list, approve, reject; targets and the ones switched off')
    .addHelpText('after', exitCodes);
  withConfig(
    cmd.command('list').description('recent runs, newest first: id, incident, state, target, outcome'),
  )
    .option('--incident <id>', 'only the runs of this incident')
    .option('--state <state>', `only runs in this state (${runStates.join('|')})`)
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print them as JSON')
    .addHelpText('after', exitCodes)
    .action((opts: ListOptions) => runList(opts));
  for (const [verb, approve, description] of [
    ['approve', true, 'run it: a run waiting for approval is queued at once'],
    ['reject', false, 'do not run it: a run waiting for approval ends as rejected'],
  ] as const) {
    withConfig(cmd.command(`${verb} <run>`).description(description))
      .option('--by <name>', 'who (default: $USER)')
      .option('--json', 'print the outcome as JSON')
      .addHelpText('after', exitCodes)
      .action((run: string, opts: DecideOptions) => runDecide(approve, run, opts));
  }
  withConfig(
    cmd
      .command('disabled')
      .description('targets switched off after failed runs: since when, why, which runs'),
  )
    .option('--json', 'print them as JSON')
    .addHelpText('after', exitCodes)
    .action((opts: { config?: string; json?: boolean }) => runDisabled(opts));
  withConfig(
    cmd
      .command('enable <target>')
      .description("switch a target on again (recorded in its last incident's thread)"),
  )
    .option('--by <name>', 'who (default: $USER)')
    .addHelpText('after', exitCodes)
    .action((target: string, opts: { config?: string; by?: string }) => runEnable(target, opts));
  withConfig(
    cmd
      .command('retry <target>')
      .description('ask again on open incidents whose last run on the target failed or was refused'),
  )
    .option('--by <name>', 'who (default: $USER)')
    .addHelpText('after', exitCodes)
    .action((target: string, opts: { config?: string; by?: string }) => runRetry(target, opts));
  withConfig(
    cmd.command('targets').description('configured targets: their action, what a run would do, on or off'),
  )
    .option('--json', 'print them as JSON')
    .addHelpText('after', exitCodes)
    .action((opts: { config?: string; json?: boolean }) => runTargets(opts));
}
