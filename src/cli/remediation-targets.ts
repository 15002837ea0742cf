import { zonedTime } from '../incidents/time-text.js';
import { remediationActions } from '../remediate/registry.js';
import { queueRun } from '../remediate/runner.js';
import {
  EXIT_DONE,
  EXIT_NOTHING,
  RemediationUsage,
  cliActor,
  withRemediation,
  type Ctx,
} from './remediation-context.js';
import { table } from './table.js';

export function runDisabled(opts: { config?: string; json?: boolean }): Promise<void> {
  return withRemediation(opts, async ({ record, config }) => {
    const off = await record.listDisabled();
    const actionOf = (t: string) => config.remediation.targets[t]?.action ?? '(not configured)';
    if (opts.json)
      console.log(
        JSON.stringify(
          off.map((d) => ({ ...d, action: actionOf(d.target) })),
          null,
          2,
        ),
      );
    else if (off.length === 0) console.log('no target is switched off');
    else
      console.log(
        table(
          ['TARGET', 'ACTION', 'SINCE', 'RUNS', 'REASON'],
          off.map((d) => [
            d.target,
            actionOf(d.target),
            zonedTime(d.since, config.oncall.timeZone),
            d.runs.join(','),
            d.reason,
          ]),
        ),
      );
    return EXIT_DONE;
  });
}

/**
 * Switches a target on again. Who did it is told in the thread of the incident whose failed run
 * switched it off (the people paged then), and printed.
 */
export function runEnable(target: string, opts: { config?: string; by?: string }): Promise<void> {
  return withRemediation(
    opts,
    async ({ record, store, config, queues }) => {
      const configured = Object.keys(config.remediation.targets);
      const off = (await record.listDisabled()).find((d) => d.target === target);
      if (!off) {
        if (!configured.includes(target))
          throw new RemediationUsage(
            `no target "${target}" in remediation.targets (configured: ${configured.join(', ') || 'none'})`,
          );
        process.stderr.write(`vigil: ${target} is not switched off: nothing to do\n`);
        return EXIT_NOTHING;
      }
      if (!(await record.enable(target))) {
        process.stderr.write(`vigil: ${target} was switched on by someone else meanwhile\n`);
        return EXIT_NOTHING;
      }
      const actor = cliActor(opts.by);
      const since = zonedTime(off.since, config.oncall.timeZone);
      const action = config.remediation.targets[target]?.action ?? 'remediation';
      const text = `${action} on ${target} switched on again by ${actor} (off since ${since}: ${off.reason})`;
      // runs[0] is the newest of the failed runs: its incident is the one whose people were paged.
      const last = off.runs[0] ? await store.get(off.runs[0]) : undefined;
      if (last) await record.tell(last.incidentId, last.id, 'remediation', `🔁 ${text}`, actor);
      console.log(text);
      await askAgain({ store, queues }, target, `asked again: ${target} switched on by ${actor}`);
      return EXIT_DONE;
    },
    true,
  );
}

export function runTargets(opts: { config?: string; json?: boolean }): Promise<void> {
  return withRemediation(opts, async ({ record, config }) => {
    const off = new Map((await record.listDisabled()).map((d) => [d.target, d]));
    // Only the action's own description: a spec may hold credentials (a database URL, a header).
    const targets = Object.entries(config.remediation.targets).map(([name, spec]) => ({
      target: name,
      action: spec.action,
      does: remediationActions.get(spec.action).describe(spec),
      disabled: off.get(name) ?? null,
    }));
    if (opts.json) console.log(JSON.stringify({ dryRun: config.remediation.dryRun, targets }, null, 2));
    else if (targets.length === 0) console.log('no targets configured (vigil.yaml remediation.targets)');
    else {
      if (config.remediation.dryRun) console.log('remediation.dryRun is on: no target runs anything\n');
      for (const t of targets) {
        const state = t.disabled
          ? `switched off since ${zonedTime(t.disabled.since, config.oncall.timeZone)}: ${t.disabled.reason}`
          : 'on';
        console.log(`${t.target}  ${t.action}  ${state}\n  ${t.does}`);
      }
    }
    return EXIT_DONE;
  });
}

/** New attempts on the target's open incidents whose last run failed or was refused, queued at once when Redis answers. */
async function askAgain(ctx: Pick<Ctx, 'store' | 'queues'>, target: string, why: string): Promise<number> {
  const runs = await ctx.store.askAgain(target, why);
  for (const run of runs) {
    if (ctx.queues) await queueRun(ctx.queues.remediate, run.id, 'asked-again');
    console.log(`asked again on incident #${run.incidentId}: run ${run.id}`);
  }
  return runs.length;
}

/**
 * Asks again for a target's open incidents whose last run failed or was refused (the config was
 * fixed, the host can take it now): the guards judge each new attempt as they did the first.
 */
export function runRetry(target: string, opts: { config?: string; by?: string }): Promise<void> {
  return withRemediation(
    opts,
    async ({ store, config, queues }) => {
      if (!Object.hasOwn(config.remediation.targets, target))
        throw new RemediationUsage(
          `no target "${target}" in remediation.targets (configured: ${Object.keys(config.remediation.targets).join(', ') || 'none'})`,
        );
      const asked = await askAgain({ store, queues }, target, `asked again by ${cliActor(opts.by)}`);
      if (asked > 0) return EXIT_DONE;
      process.stderr.write(
        `vigil: no open incident's last run on ${target} failed or was refused: nothing to do\n`,
      );
      return EXIT_NOTHING;
    },
    true,
  );
}
