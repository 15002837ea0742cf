import { EventEmitter } from 'node:events';

/**
 * Why the agent is degraded, by component: a channel that failed for good, schedules that went
 * missing, a canary that stopped coming back. `/healthz` reports every reason, so an operator
 * reads what is wrong instead of a bare 503.
 */
export class Health extends EventEmitter<{ change: [component: string, problem: string | undefined] }> {
  private readonly reasons = new Map<string, string>();

  /** Records a problem of `component`, or clears it with `undefined`; 'change' tells each change. */
  set(component: string, problem: string | undefined): void {
    if (this.reasons.get(component) === problem) return;
    if (problem === undefined) this.reasons.delete(component);
    else this.reasons.set(component, problem);
    this.emit('change', component, problem);
  }

  problems(): Record<string, string> {
    return Object.fromEntries([...this.reasons].sort(([a], [b]) => a.localeCompare(b)));
  }

  get ok(): boolean {
    return this.reasons.size === 0;
  }
}
