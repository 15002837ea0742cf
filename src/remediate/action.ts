import type { z } from 'zod';
import type { Logger } from '../log.js';

/**
 * One remediation action (restart-service, fix-zombie-tasks, …): one file each under actions/,
 * registered by name in registry.ts. A target in vigil.yaml `remediation.targets` names its action
 * and carries the action's spec; rules pick targets by name. Nothing an action runs comes from an
 * event: the spec is configuration, the incident is only context for the record.
 */
export interface RemediationAction<S extends { action: string }> {
  /** The `action:` value of a target, e.g. "restart-service". */
  readonly name: S['action'];
  /** The target's spec as written in vigil.yaml (validated at start, with paths). */
  readonly schema: z.ZodType<S>;
  /**
   * What a run would do, as one imperative line ("run /usr/bin/x --y (timeout 1m)"), for dry-run and
   * approval messages: no side effects.
   */
  describe(spec: S): string;
  /**
   * Does it. Records each step as it goes (ctx.step), so a run cut short shows how far it got.
   * Never throws for an expected failure: it returns `{ outcome: 'failed' | 'refused' }` with why.
   * A throw is recorded as a failed run with the error's message.
   */
  run(spec: S, ctx: ActionContext): Promise<ActionResult>;
}

export type StepOutcome = 'ok' | 'failed' | 'skipped';

export interface ActionContext {
  /** The target's name in vigil.yaml. */
  target: string;
  /** The run's id (the record) and its incident, for logs only. */
  runId: string;
  incidentId: string;
  /** Aborted at the run's deadline or when the agent shuts down: stop waiting, record, return. */
  signal: AbortSignal;
  /**
   * Records one step: its name ("ssh-guard", "find-pids", "sigterm", …), outcome, a one-line
   * detail, and bounded output (stdout/stderr, ids) when there is some. Resolves once stored.
   */
  step(name: string, outcome: StepOutcome, detail: string, output?: string): Promise<void>;
  log: Logger;
}

export interface ActionResult {
  /**
   * done: it did what it does (the runner then verifies with the rule's probe);
   * failed: it tried and it did not work; refused: a safety check stopped it before it changed
   * anything (SSH not listening, no exact PID match) — a person must look.
   */
  outcome: 'done' | 'failed' | 'refused';
  /** One line for the Slack thread and the record: "restarted helix-api on port 8001 (8000 was taken by pid 4242)". */
  summary: string;
}

/** Output kept per step: enough to see what went wrong, bounded so a chatty program cannot fill the record. */
export const MAX_STEP_OUTPUT = 8 * 1024;

/** Keeps the last part of a long output, where errors usually are, and says how much was cut. */
export function boundOutput(text: string, max = MAX_STEP_OUTPUT): string {
  if (text.length <= max) return text;
  return `…(${text.length - max} earlier characters cut)\n${text.slice(text.length - max)}`;
}
