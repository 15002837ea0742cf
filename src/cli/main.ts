import { Command, InvalidArgumentError } from 'commander';
import { defaultSucceeded } from '../sources/postgres/trigger-sql.js';
import { reportFailure } from './fail.js';
import { runDemo } from '../demo/run-demo.js';
import { runReceivers, type ReceiversOptions } from '../demo/receivers.js';
import { runDoctor } from './doctor.js';
import { runInstallTriggers, type InstallTriggersOptions } from './install-triggers.js';
import { runMigrate } from './migrate.js';
import { runProbesList, runProbesPrune } from './probes.js';
import { runRulesSchema, runRulesValidate } from './rules.js';
import { runRulesTest, type RulesTestOptions } from './rules-test.js';
import { runStart } from './start.js';
import { registerSilenceCommands } from './silences.js';
import { registerThresholdCommands } from './thresholds.js';
import { registerIncidentCommands } from './incidents.js';
import { registerRemediationCommands } from './remediation.js';

const program = new Command()
  .name('vigil')
  .description(
    'Event-driven alerting agent: sources → queues → rules → incidents → Slack, email, remediation',
  )
  .showHelpAfterError();

const withConfig = (cmd: Command) =>
  cmd.option('-c, --config <file>', 'config file (default: ./vigil.yaml when present)');

withConfig(program.command('start').description('run the agent: probes, rule workers, notifications, HTTP'))
  .option('--no-migrate', 'do not apply database migrations at start')
  .action((opts: { config?: string; migrate: boolean }) => runStart(opts));

withConfig(
  program.command('migrate').description('apply pending database migrations (safe to run from many hosts)'),
).action((opts: { config?: string }) => runMigrate(opts));

withConfig(
  program
    .command('doctor')
    .description(
      'check PostgreSQL, Redis (and its eviction policy), Slack and SMTP; say how to fix what is wrong',
    ),
).action((opts: { config?: string }) => runDoctor(opts));

withConfig(
  program
    .command('install-triggers')
    .description("raise an event into Vigil's outbox on each status change of a tasks table (idempotent)"),
)
  .requiredOption('--table <name>', 'the table to watch')
  .option('--schema <name>', "the table's schema", 'public')
  .option('--columns <map>', 'its columns, e.g. id=id,status=status,attempts=,error_log=log (empty: none)')
  .option('--event <name>', 'name of the events', 'task-status')
  .option('--failed <statuses>', 'statuses that make ok false, comma-separated', 'failed')
  .option(
    '--succeeded <statuses>',
    'statuses that make ok true, comma-separated (others carry no ok: a task still running neither fails nor heals a rule)',
    defaultSucceeded.join(','),
  )
  .option('--source <name>', 'the pg-outbox source to feed, when the config has several')
  .option('--uninstall', 'remove the trigger instead')
  .option('--dry-run', 'print the SQL, change nothing')
  .action((opts: InstallTriggersOptions) => runInstallTriggers(opts));

const rules = program.command('rules').description('work with rule files');
withConfig(
  rules
    .command('validate')
    .description('check every rule file; report all problems with file:line and field'),
)
  .option('-d, --dir <dir>', 'rules folder (default: rules.dir of the config, else ./rules)')
  .option('--json', 'print the parsed rules as JSON')
  .action((opts: { config?: string; dir?: string; json?: boolean }) => runRulesValidate(opts));
withConfig(
  rules
    .command('test [rule]')
    .description(
      'replay recorded events or a log through a rule on a virtual clock: when it fires and resolves; --all runs <dir>/tests/*.yaml',
    ),
)
  .option('-d, --dir <dir>', 'rules folder (default: rules.dir of the config, else ./rules)')
  .option('--events <file>', 'recorded events, one JSON event per line')
  .option('--log <file>', "a log file, read by the config's log source that feeds the rule")
  .option('--source <name>', 'that log source, when several feed the rule')
  .option('--set <key=value>', "use this threshold instead of the file's (repeatable)", collect, [])
  .option('--compare <key=value...>', 'replay once per value; print incidents and firing time of each')
  .option('--plot <file.png>', 'draw the measured value against the threshold, with fire/resolve marks')
  .option('--all', 'run every rule test of <dir>/tests/*.yaml; exit 1 if one fails')
  .option('--json', 'print the result as JSON')
  .action((rule: string | undefined, opts: RulesTestOptions) => runRulesTest(rule, opts));
rules
  .command('schema')
  .description('print the JSON Schema of a rule file (for editors)')
  .action(() => runRulesSchema());

registerThresholdCommands(program, withConfig);
registerIncidentCommands(program, withConfig);
registerSilenceCommands(program, withConfig);
registerRemediationCommands(program, withConfig);

const probes = program.command('probes').description('inspect and tidy the probe schedulers in Redis');
withConfig(probes.command('list').description('list probe schedulers: id, probe, interval, next run'))
  .option('--json', 'print them as JSON')
  .action((opts: { config?: string; json?: boolean }) => runProbesList(opts));
withConfig(
  probes
    .command('prune')
    .description('remove the schedulers no enabled rule of this rule set defines (agents never do)'),
)
  .option('--dry-run', 'list what would be removed, remove nothing')
  .action((opts: { config?: string; dryRun?: boolean }) => runProbesPrune(opts));

program
  .command('demo')
  .description(
    'run HELIX simulator, Slack emulator, SMTP sink and the agent; break and heal the API on a timer, and have Vigil restart a killed API process',
  )
  .option('--cycles <n>', 'stop after this many break/heal cycles (default: run until Ctrl-C)', (v) =>
    Number(v),
  )
  .option('--port <port>', 'HTTP port of the agent', (v) => Number(v), 8470)
  .option(
    '--namespace <name>',
    'PostgreSQL schema and Redis prefix of the demo (emptied at start)',
    'vigil_demo',
  )
  .option(
    '--api-ports <from-to>',
    "ports the demo's HELIX API process may use; Vigil moves it to the first free one",
    portRange,
    { from: 8000, to: 8099 },
  )
  .action(
    (opts: { cycles?: number; port: number; namespace: string; apiPorts: { from: number; to: number } }) =>
      runDemo(opts),
  );

program
  .command('receivers')
  .alias('stand-ins')
  .description(
    'a Slack Web API emulator and an SMTP sink for an agent of your own: shows what arrives, presses buttons',
  )
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--slack-port <port>', 'Slack emulator port', (v) => Number(v), 8025)
  .option('--smtp-port <port>', 'SMTP sink port (vigil.yaml points at 1025)', (v) => Number(v), 1025)
  .option('--web-port <port>', 'port of the page showing messages and their buttons', (v) => Number(v), 8026)
  .option(
    '--request-url <url>',
    "the agent's interactivity URL, where pressed buttons go",
    'http://127.0.0.1:8470/slack/interactions',
  )
  .option('--signing-secret <secret>', 'sign button presses with this (default: a new random one, printed)')
  .option(
    '--socket-mode',
    'send button presses over the Socket Mode connection of an agent with slack.appToken',
  )
  .option('--user <name>', 'the Slack user pressing buttons (default: your login name)')
  .action((opts: ReceiversOptions) => runReceivers({ ...opts, socketMode: opts.socketMode === true }));

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** "8000-8099": a range of TCP ports. */
function portRange(value: string): { from: number; to: number } {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(value.trim());
  const [from, to] = [Number(m?.[1]), Number(m?.[2])];
  if (!m || from < 1 || to > 65_535 || from > to)
    throw new InvalidArgumentError('a range of ports such as 8000-8099');
  return { from, to };
}

program.parseAsync().catch((err: unknown) => {
  process.exitCode = reportFailure(err);
});
