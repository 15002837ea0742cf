import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { keysOf, problemWith, seriesSelector, splitKey } from '../rules/threshold-keys.js';
import {
  changeThresholds,
  deleteThresholds,
  historyEntry,
  upsertThreshold,
  type Change,
} from '../rules/threshold-table.js';
import { ThresholdRefusal, withThresholds, type ThresholdContext } from './threshold-context.js';
import { runThresholdsHistory, runThresholdsList } from './thresholds-list.js';

interface ChangeOptions {
  config?: string;
  reason: string;
  by?: string;
  /** `label=value,…`: tune one series of a rule with groupBy */
  series?: string;
}

const changeOf = (opts: ChangeOptions): Change => ({
  by: opts.by ?? `${process.env.USER ?? userInfo().username}@${hostname()}`,
  reason: opts.reason,
});

function parseAssignments(
  ctx: ThresholdContext,
  rule: string,
  assignments: string[],
  seriesText: string | undefined,
): Map<string, number> {
  const values = new Map<string, number>();
  const problems: string[] = [];
  const known = ctx.rules.get(rule);
  let series = '';
  if (seriesText !== undefined && known) {
    const selected = seriesSelector(known, seriesText);
    if (selected.problem) throw new ThresholdRefusal([`${rule}: ${selected.problem}`]);
    series = selected.series ?? '';
  }
  for (const a of assignments) {
    const m = /^([^=]+)=(.*)$/.exec(a);
    const text = m?.[2]?.trim() ?? '';
    const parse = known && m?.[1] ? keysOf(known)[m[1]]?.parse : undefined;
    const value = text === '' ? Number.NaN : parse ? parse(text) : Number(text);
    const key = `${m?.[1] ?? ''}${series}`;
    const problem = m?.[1] ? problemWith(ctx.rules, rule, key, value) : `"${a}" is not <key>=<value>`;
    if (problem) problems.push(`${rule}: ${problem}`);
    else values.set(key, value);
  }
  if (problems.length) throw new ThresholdRefusal(problems);
  return values;
}

/** `vigil thresholds set <rule> key=value…`: all or nothing, each change audited with who and why. */
function runSet(rule: string, assignments: string[], opts: ChangeOptions): Promise<void> {
  return withThresholds(opts, async (ctx) => {
    const values = parseAssignments(ctx, rule, assignments, opts.series);
    const change = changeOf(opts);
    await changeThresholds(ctx.pool, change, async (client) => {
      for (const [key, value] of values) await upsertThreshold(client, rule, key, value, change);
    });
    const keys = keysOf(ctx.rules.get(rule) as NonNullable<ReturnType<typeof ctx.rules.get>>);
    for (const [key, value] of values)
      console.log(`${rule} ${key} = ${keys[splitKey(key).base]?.show?.(value) ?? value}`);
  });
}

/** `vigil thresholds revert <rule> <id>`: puts back the value that change replaced. */
function runRevert(rule: string, id: string, opts: ChangeOptions): Promise<void> {
  return withThresholds(opts, async (ctx) => {
    const entry = /^\d+$/.test(id) ? await historyEntry(ctx.pool, rule, id) : undefined;
    if (!entry) throw new ThresholdRefusal([`${rule}: no change #${id} in its history`]);
    const { key, oldValue } = entry;
    const problem = oldValue === null ? undefined : problemWith(ctx.rules, rule, key, oldValue);
    if (problem) throw new ThresholdRefusal([`${rule}: cannot revert #${id}: ${problem}`]);
    const change = changeOf(opts);
    await changeThresholds(ctx.pool, change, async (client) => {
      if (oldValue === null) await deleteThresholds(client, rule, key);
      else await upsertThreshold(client, rule, key, oldValue, change);
    });
    console.log(`${rule} ${key} = ${oldValue ?? 'file default'} (reverted #${id})`);
  });
}

/** `vigil thresholds reset <rule> [key]`: the rule file's defaults apply again. */
function runReset(rule: string, key: string | undefined, opts: ChangeOptions): Promise<void> {
  return withThresholds(opts, async (ctx) => {
    let removed = 0;
    await changeThresholds(ctx.pool, changeOf(opts), async (client) => {
      removed = await deleteThresholds(client, rule, key);
    });
    // A row of a rule no longer loaded may still be reset (tidied); a typo that matches nothing may not.
    const known = ctx.rules.get(rule);
    if (!removed && !known) throw new ThresholdRefusal([`unknown rule "${rule}"`]);
    if (!removed && known && key !== undefined && !keysOf(known)[splitKey(key).base])
      throw new ThresholdRefusal([`${rule}: unknown threshold key "${key}"`]);
    console.log(`${rule}: ${removed} tuned row(s) removed; the rule file's defaults apply`);
  });
}

/** Registers `vigil thresholds list|set|history|revert|reset`. */
export function registerThresholdCommands(program: Command, withConfig: (cmd: Command) => Command): void {
  const cmd = program.command('thresholds').description('read and tune the live thresholds table');
  withConfig(
    cmd.command('list').description('each rule key in force, and where it comes from (file or table)'),
  )
    .option('--json', 'print them as JSON')
    .action((opts: { config?: string; json?: boolean }) => runThresholdsList(opts));
  const changing = (c: Command) =>
    withConfig(c)
      .requiredOption('--reason <text>', 'why (kept in the audit trail)')
      .option('--by <name>', 'who (default: $USER@hostname)');
  changing(
    cmd.command('set <rule> <assignments...>').description('set key=value for a rule, in one transaction'),
  )
    .option('--series <labels>', 'only the series with these groupBy labels, e.g. host=db-2')
    .action((rule: string, assignments: string[], opts: ChangeOptions) => runSet(rule, assignments, opts));
  withConfig(cmd.command('history <rule>').description("the rule's audit trail, newest first"))
    .option('--json', 'print it as JSON')
    .action((rule: string, opts: { config?: string; json?: boolean }) => runThresholdsHistory(rule, opts));
  changing(
    cmd.command('revert <rule> <history-id>').description('put back the value a change replaced'),
  ).action((rule: string, id: string, opts: ChangeOptions) => runRevert(rule, id, opts));
  changing(
    cmd.command('reset <rule> [key]').description("remove tuned rows: the rule file's defaults apply"),
  ).action((rule: string, key: string | undefined, opts: ChangeOptions) => runReset(rule, key, opts));
}
