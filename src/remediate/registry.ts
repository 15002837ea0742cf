import { z } from 'zod';
import { VigilError } from '../errors.js';
import type { RemediationAction } from './action.js';
import { fixZombieTasks } from './actions/fix-zombie-tasks.js';
import { httpRequest } from './actions/http-request.js';
import { restartContainer } from './actions/restart-container.js';
import { runCommand } from './actions/run-command.js';
import { restartService } from './actions/restart-service.js';

/** A target as configured: its action's name and that action's spec (validated by the action's schema). */
export type TargetSpec = { action: string } & Record<string, unknown>;

type AnyAction = RemediationAction<TargetSpec>;

/** The actions a target may name; adding one is one file under actions/ and one entry below. */
export class ActionRegistry {
  readonly #actions = new Map<string, AnyAction>();

  register<S extends { action: string }>(action: RemediationAction<S>): this {
    if (this.#actions.has(action.name))
      throw new VigilError('E_ACTION_DUPLICATE', `remediation action "${action.name}" is registered twice`);
    this.#actions.set(action.name, action as unknown as AnyAction);
    return this;
  }

  get(name: string): AnyAction {
    const found = this.#actions.get(name);
    if (!found)
      throw new VigilError(
        'E_ACTION_UNKNOWN',
        `unknown remediation action "${name}" (known: ${this.names()})`,
      );
    return found;
  }

  names(): string {
    return [...this.#actions.keys()].join(', ') || 'none';
  }

  /**
   * `remediation.targets` of vigil.yaml: each target checked by its own action's schema, every
   * problem reported with its path (remediation.targets.<name>.<field>), the specs returned parsed.
   */
  targetsSchema() {
    return z.record(z.string(), z.looseObject({ action: z.string() })).transform((targets, ctx) => {
      const out: Record<string, TargetSpec> = {};
      for (const [name, spec] of Object.entries(targets)) {
        if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
          ctx.addIssue({ code: 'custom', path: [name], message: 'lower-case letters, digits, "_" and "-"' });
          continue;
        }
        const action = this.#actions.get(spec.action);
        if (!action) {
          ctx.addIssue({
            code: 'custom',
            path: [name, 'action'],
            message: `unknown action "${spec.action}" (known: ${this.names()})`,
          });
          continue;
        }
        const parsed = action.schema.safeParse(spec);
        if (parsed.success) out[name] = parsed.data;
        else
          for (const issue of parsed.error.issues)
            ctx.addIssue({ code: 'custom', path: [name, ...issue.path], message: issue.message });
      }
      return out;
    });
  }
}

export const remediationActions = new ActionRegistry()
  .register(fixZombieTasks)
  .register(runCommand)
  .register(restartContainer)
  .register(httpRequest)
  .register(restartService);
