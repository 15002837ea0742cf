import { existsSync, writeFileSync } from 'node:fs';
import { defaultConfigFile, loadConfig } from '../config/load.js';
import type { VigilConfig } from '../config/schema.js';
import { loadRules } from '../rules/loader.js';
import { replay, type ReplayResult, type Timed } from '../rules/replay.js';
import { readEvents } from '../rules/replay-input.js';
import { logSourcesFor, readLog } from '../rules/replay-log.js';
import { overridden, ReplayRefusal } from '../rules/replay-set.js';
import { ruleMatch, type Rule } from '../rules/schema.js';
import { plotReplay } from '../plot/chart.js';
import { sourcesSchema } from '../sources/schema.js';
import { EXIT_CONFIG } from './fail.js';
import { progressBar } from './progress.js';
import { compareTable, replayJson, transitionLines } from './replay-print.js';
import { runRuleTests } from './rule-tests.js';

export interface RulesTestOptions {
  config?: string;
  dir?: string;
  events?: string;
  log?: string;
  source?: string;
  set: string[];
  compare?: string[];
  json?: boolean;
  plot?: string;
  all?: boolean;
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/** `vigil rules test`: replays recorded events or a log through a rule, or runs the rule unit tests. */
export async function runRulesTest(ruleId: string | undefined, opts: RulesTestOptions): Promise<void> {
  const useConfig = opts.config !== undefined || existsSync(defaultConfigFile);
  const config = useConfig ? loadConfig(opts.config === undefined ? {} : { file: opts.config }) : undefined;
  const dir = opts.dir ?? config?.rules.dir ?? 'rules';
  const set = loadRules(dir, config?.rules.vars ?? {}, process.env, config?.rules.envPrefix);
  try {
    if (opts.all) {
      if (ruleId !== undefined || opts.events || opts.log)
        throw new ReplayRefusal([
          '--all runs the rule tests of the rules folder; give no rule, --events or --log',
        ]);
      process.exitCode = runRuleTests(dir, set.rules, opts.json === true);
      return;
    }
    const rule = set.rules.find((r) => r.id === ruleId);
    if (!rule)
      throw new ReplayRefusal([
        ruleId === undefined
          ? 'name a rule to replay (or --all for the rule tests)'
          : `unknown rule "${ruleId}" in ${dir} (rules: ${set.rules.map((r) => r.id).join(', ') || 'none'})`,
      ]);
    if (Boolean(opts.events) === Boolean(opts.log))
      throw new ReplayRefusal(['give one input: --events file.ndjson or --log file.log']);
    const conditions = (opts.compare ?? []).map((c) => ({
      setting: c,
      condition: overridden(rule, [...opts.set, c]),
    }));
    const base = overridden(rule, opts.set);
    const events = await inputOf(rule, opts, config);
    if (conditions.length) {
      const rows = conditions.map((c) => ({ setting: c.setting, result: replay(rule, c.condition, events) }));
      if (opts.json)
        console.log(
          JSON.stringify(
            rows.map((r) => ({ setting: r.setting, ...replayJson(r.result) })),
            null,
            2,
          ),
        );
      else for (const line of compareTable(rows)) console.log(line);
      if (opts.plot) writePlot(opts.plot, base, replay(rule, base, events));
      return;
    }
    const result = replay(rule, base, events);
    if (opts.json) console.log(JSON.stringify(replayJson(result), null, 2));
    else for (const line of transitionLines(result)) console.log(line);
    if (opts.plot) writePlot(opts.plot, base, result);
  } catch (err) {
    if (!(err instanceof ReplayRefusal)) throw err;
    for (const p of err.problems) say(`vigil: ${p}`);
    process.exitCode = EXIT_CONFIG;
  }
}

async function inputOf(
  rule: Rule,
  opts: RulesTestOptions,
  config: VigilConfig | undefined,
): Promise<Timed[]> {
  const bar = progressBar('reading');
  try {
    if (opts.events) {
      const { events, bad } = await readEvents(opts.events, bar.update);
      bar.end();
      for (const b of bad) say(`vigil: ${b.where}: skipped: ${b.reason}`);
      if (bad.length)
        say(
          `vigil: ${bad.length} bad line${bad.length === 1 ? '' : 's'} skipped, ${events.length} events read`,
        );
      return events;
    }
    const file = opts.log as string;
    const sources = logSourcesFor(rule, config?.sources ?? sourcesSchema.parse(undefined));
    const named = opts.source === undefined ? sources : sources.filter((s) => s.name === opts.source);
    const spec = named[0];
    const m = ruleMatch(rule);
    if (m.source !== undefined && m.source !== 'log')
      throw new ReplayRefusal([
        `rule "${rule.id}" matches ${m.source} events, which no log gives: replay recorded events with --events`,
      ]);
    if (!spec || named.length > 1)
      throw new ReplayRefusal([
        spec
          ? `log sources ${named.map((s) => s.name).join(', ')} all feed rule "${rule.id}": choose one with --source`
          : `no log source${opts.source ? ` named "${opts.source}"` : ''} in ${config ? (opts.config ?? defaultConfigFile) : 'the config (none found)'} has a signal named "${m.name}" that rule "${rule.id}" matches: add one (README, "Source log") or replay recorded events with --events`,
      ]);
    const read = await readLog(file, spec, rule, bar.update);
    bar.end();
    if (read.undated)
      say(`vigil: ${read.undated} record(s) had no time the parser reads: dated like the record before them`);
    return read.events;
  } finally {
    bar.end();
  }
}

function writePlot(file: string, condition: { kind: string }, result: ReplayResult): void {
  const plot = plotReplay(condition, result);
  writeFileSync(file, plot.png);
  say(`vigil: plotted ${plot.series} to ${file}`);
}
