import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { parseDuration } from '../config/duration.js';
import { checkPostgres, createPool, type Pool } from '../db/pool.js';
import { DependencyError, VigilError } from '../errors.js';
import { matcherText, parseMatcher, Silences, type Silence } from '../incidents/silences.js';
import { EXIT_CONFIG } from './fail.js';

/** Input the silences commands turn down: one line, exit 2. */
class SilenceRefusal extends VigilError {
  constructor(message: string) {
    super('E_SILENCE_REFUSED', message);
  }
}

interface AddOptions {
  config?: string;
  match: string[];
  for?: string;
  until?: string;
  starts?: string;
  reason?: string;
  by?: string;
}

const whoAmI = () => process.env.USER ?? userInfo().username;
const shown = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

async function withSilences(opts: { config?: string }, fn: (s: Silences) => Promise<void>): Promise<void> {
  const config = loadConfig(opts.config === undefined ? {} : { file: opts.config });
  const pool: Pool = createPool(config.database, 'vigil silences');
  try {
    await checkPostgres(pool, config.database.url);
    const { rows } = await pool.query<{ t: string | null }>(
      `SELECT to_regclass('vigil_silences')::text AS t`,
    );
    if (!rows[0]?.t)
      throw new DependencyError(
        'E_NOT_MIGRATED',
        `no silences table in schema ${config.database.schema}`,
        'run `vigil migrate` with this config (the agent also migrates when it starts)',
      );
    await fn(new Silences(pool));
  } catch (err) {
    if (!(err instanceof VigilError) || !/^E_SILENCE_/.test(err.code)) throw err;
    process.stderr.write(`vigil: ${err.message}\n`);
    process.exitCode = EXIT_CONFIG;
  } finally {
    await pool.end();
  }
}

function isoTime(text: string, option: string): Date {
  const d = new Date(text);
  if (!/^\d{4}-\d\d-\d\d/.test(text) || Number.isNaN(d.getTime()))
    throw new SilenceRefusal(`${option} "${text}": not an ISO time such as 2024-05-01T14:00:00Z`);
  return d;
}

/** Everything checked before the database is touched, so a typo changes nothing. */
function parseAdd(opts: AddOptions) {
  if (opts.match.length === 0) throw new SilenceRefusal('--match is required, e.g. --match rule=api-health');
  const matchers = opts.match.map(parseMatcher);
  if (!opts.reason?.trim()) throw new SilenceRefusal('--reason is required: say why (kept with the silence)');
  if ((opts.for === undefined) === (opts.until === undefined))
    throw new SilenceRefusal('give either --for <duration> or --until <ISO time>');
  const startsAt = opts.starts === undefined ? undefined : isoTime(opts.starts, '--starts');
  let endsAt: Date;
  if (opts.for !== undefined) {
    const ms = parseDuration(opts.for);
    if (!ms) throw new SilenceRefusal(`--for "${opts.for}": use a duration such as 30m, 2h, 1d`);
    endsAt = new Date((startsAt ?? new Date()).getTime() + ms);
  } else endsAt = isoTime(opts.until ?? '', '--until');
  if (endsAt <= (startsAt ?? new Date()))
    throw new SilenceRefusal(`the silence would end (${shown(endsAt)}) before it starts`);
  return {
    matchers,
    endsAt,
    reason: opts.reason.trim(),
    createdBy: opts.by ?? whoAmI(),
    ...(startsAt ? { startsAt } : {}),
  };
}

function runAdd(opts: AddOptions): Promise<void> {
  return withSilences(opts, async (silences) => {
    const s = await silences.add(parseAdd(opts));
    const holds = (await silences.holding()).get(s.id) ?? 0;
    console.log(
      `Silence #${s.id} ${s.state} ${shown(s.startsAt)} → ${shown(s.endsAt)}: ${s.matchers.map(matcherText).join(' ')} (${holds} open incident(s) held)`,
    );
  });
}

function runList(opts: { config?: string; all?: boolean; json?: boolean }): Promise<void> {
  return withSilences(opts, async (silences) => {
    const list = await silences.list({ all: opts.all ?? false });
    const holding = await silences.holding();
    const holds = (s: Silence) => (s.state === 'active' ? (holding.get(s.id) ?? 0) : 0);
    if (opts.json) {
      console.log(
        JSON.stringify(
          list.map((s) => ({ ...s, holds: holds(s) })),
          null,
          2,
        ),
      );
      return;
    }
    if (list.length === 0) return console.log(opts.all ? 'no silences' : 'no pending or active silences');
    const rows = [
      ['ID', 'STATE', 'MATCHERS', 'STARTS', 'ENDS', 'BY', 'HOLDS', 'REASON'],
      ...list.map((s) => [
        `#${s.id}`,
        s.state,
        s.matchers.map(matcherText).join(' '),
        shown(s.startsAt),
        shown(s.expiredAt ?? s.endsAt),
        s.createdBy,
        String(holds(s)),
        s.reason,
      ]),
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
    for (const r of rows)
      console.log(
        r
          .map((v, i) => v.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      );
  });
}

function runExpire(id: string, opts: { config?: string; by?: string }): Promise<void> {
  return withSilences(opts, async (silences) => {
    const out = await silences.expireOnce(id.replace(/^#/, ''), opts.by ?? whoAmI());
    if (!out) throw new SilenceRefusal(`no silence #${id.replace(/^#/, '')}`);
    const { silence: s, changed } = out;
    console.log(
      changed
        ? `Expired silence #${s.id}; the incidents it held are released at the next sweep`
        : `Silence #${s.id} had already ended (${shown(s.expiredAt ?? s.endsAt)}${s.expiredBy ? `, expired by ${s.expiredBy}` : ''})`,
    );
  });
}

/** Registers `vigil silences add|list|expire`. */
export function registerSilenceCommands(program: Command, withConfig: (cmd: Command) => Command): void {
  const cmd = program.command('silences').description('silence incidents for a while: add, list, expire');
  withConfig(cmd.command('add').description('hold matching incidents (recorded, not sent) for a time'))
    .option(
      '--match <matcher>',
      'name=value, name!=value, name=~regex, name!~regex (repeatable; names: labels, rule, severity, category)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option('--for <duration>', 'how long, e.g. 2h')
    .option('--until <time>', 'or until this ISO time')
    .option('--starts <time>', 'start later, at this ISO time')
    .option('--reason <text>', 'why (required)')
    .option('--by <name>', 'who (default: $USER)')
    .action((opts: AddOptions) => runAdd(opts));
  withConfig(
    cmd.command('list').description('pending and active silences, and how many incidents each holds'),
  )
    .option('--all', 'expired ones too')
    .option('--json', 'print them as JSON')
    .action((opts: { config?: string; all?: boolean; json?: boolean }) => runList(opts));
  withConfig(cmd.command('expire <id>').description('end a silence now; what it held is released'))
    .option('--by <name>', 'who (default: $USER)')
    .action((id: string, opts: { config?: string; by?: string }) => runExpire(id, opts));
}
