import { errorMessage } from '../errors.js';
import type { Rule } from '../rules/schema.js';
import type { ActionResult, RemediationAction, StepOutcome } from './action.js';
import { boundOutput } from './action.js';
import type { TargetLock } from './lock.js';
import type { TargetSpec } from './registry.js';
import type { Run, RunStore } from './runs.js';
import type { RuleRemediation } from './schema.js';
import { verifyByProbe, type Verification } from './verify.js';
import type { Logger } from '../log.js';

export interface Executed {
  /** How the run ended: the action's result, then the probe's verdict. */
  state: 'succeeded' | 'failed' | 'refused' | 'interrupted';
  summary: string;
  verification: Verification | undefined;
}

export interface ExecuteDeps {
  store: RunStore;
  agentId: string;
  leaseForMs: number;
  runTimeoutMs: number;
  /** Aborted when the agent shuts down. */
  closing: AbortSignal;
  log: Logger;
}

/**
 * Runs a claimed run's action with its lease kept alive, then verifies it with the rule's probe.
 * The run's deadline, the agent shutting down and a lost lease all abort the action's signal; a
 * run cut short by the agent stopping is `interrupted`, not failed (its steps show how far it got).
 */
export async function execute(
  d: ExecuteDeps,
  run: Run,
  rule: Rule,
  entry: RuleRemediation,
  action: RemediationAction<TargetSpec>,
  spec: TargetSpec,
  lock: TargetLock,
): Promise<Executed> {
  const lost = new AbortController();
  const signal = AbortSignal.any([d.closing, lost.signal, AbortSignal.timeout(d.runTimeoutMs)]);
  const log = d.log.child({ run: run.id, target: run.target, action: run.action });
  // The lease is the run's row in PostgreSQL: once it has lapsed the sweeper may call the run
  // interrupted and ask for another, so this one stops rather than run alongside it.
  let renewedAt = Date.now();
  const renew = setInterval(
    () => {
      void Promise.all([lock.renew(), d.store.renew(run.id, d.agentId, d.leaseForMs)])
        .then(([, held]) => {
          if (held) renewedAt = Date.now();
          else {
            log.warn('lost the run lease: stopping the action');
            lost.abort(new Error('lease lost'));
          }
        })
        .catch((err: unknown) => {
          log.warn({ err: errorMessage(err) }, 'lease not renewed');
          if (Date.now() - renewedAt > d.leaseForMs) lost.abort(new Error('lease lapsed'));
        });
    },
    Math.max(100, Math.floor(d.leaseForMs / 3)),
  );
  try {
    const step = async (name: string, outcome: StepOutcome, detail: string, output?: string) => {
      log.info({ step: name, outcome, detail }, 'remediation step');
      await d.store.step(run.id, name, outcome, detail, output === undefined ? '' : boundOutput(output));
    };
    let result: ActionResult;
    try {
      result = await action.run(spec, {
        target: run.target,
        runId: run.id,
        incidentId: run.incidentId,
        signal,
        step,
        log,
      });
    } catch (err) {
      result = { outcome: 'failed', summary: `the action threw: ${errorMessage(err)}` };
      await step('error', 'failed', errorMessage(err)).catch(() => undefined);
    }
    if (d.closing.aborted || lost.signal.aborted)
      return {
        state: 'interrupted',
        summary: `cut short (${stopReason(d.closing, lost)}): ${result.summary}`,
        verification: undefined,
      };
    if (result.outcome !== 'done')
      return {
        state: result.outcome === 'refused' ? 'refused' : 'failed',
        summary: result.summary,
        verification: undefined,
      };
    const verification = await verifyByProbe(rule, entry.verify, AbortSignal.any([d.closing, lost.signal]));
    await step(
      'verify',
      verification.verified === false ? 'failed' : verification.verified ? 'ok' : 'skipped',
      verification.detail,
    );
    // Cut short while verifying: the action did its part, nobody knows yet whether it held.
    if (d.closing.aborted || lost.signal.aborted)
      return {
        state: 'interrupted',
        summary: `${result.summary}; not verified (${stopReason(d.closing, lost)})`,
        verification,
      };
    return {
      state: verification.verified === false ? 'failed' : 'succeeded',
      summary: result.summary,
      verification,
    };
  } finally {
    clearInterval(renew);
  }
}

const stopReason = (closing: AbortSignal, lost: AbortController) =>
  closing.aborted ? 'the agent is shutting down' : lost.signal.aborted ? 'its lease was lost' : 'timed out';
