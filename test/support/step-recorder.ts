import type { ActionContext, StepOutcome } from '../../src/remediate/action.js';
import { createLogger } from '../../src/log.js';

export interface RecordedStep {
  name: string;
  outcome: StepOutcome;
  detail: string;
  output?: string;
}

/** An action's context as the runner gives it, with its steps collected in `steps` instead of stored. */
export function recordingContext(signal: AbortSignal = new AbortController().signal): ActionContext & {
  steps: RecordedStep[];
} {
  const steps: RecordedStep[] = [];
  return {
    target: 'test-target',
    runId: 'run-1',
    incidentId: 'incident-1',
    signal,
    steps,
    log: createLogger({ level: process.env.VIGIL_TEST_LOG ?? 'silent' }),
    async step(name, outcome, detail, output) {
      steps.push({ name, outcome, detail, ...(output === undefined ? {} : { output }) });
    },
  };
}
