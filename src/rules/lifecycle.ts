import type { Timing, Verdict } from './kinds/kind.js';

/**
 * The alert lifecycle every windowed kind shares: firing or not, and how many times it fired and
 * resolved (the intent counters the incident store catches up with, as in series.lua).
 */
export interface Life {
  firing: boolean;
  fires: number;
  resolves: number;
  firedSince: number;
  resolvedAt: number;
  /** A breach waiting out `for`; a clear waiting out `keepFiringFor` */
  pendingSince: number | null;
  clearSince: number | null;
  value: number;
}

export const newLife = (): Life => ({
  firing: false,
  fires: 0,
  resolves: 0,
  firedSince: 0,
  resolvedAt: 0,
  pendingSince: null,
  clearSince: null,
  value: 0,
});

/**
 * Moves the lifecycle by one verdict at `at`. A breach fires once it has lasted `for`; a firing alert
 * resolves once it has been clear for `keepFiringFor`, so a value on the edge does not flap. An
 * undecided verdict (not enough data, a run still short) holds whatever is pending.
 */
export function step(life: Life, verdict: Verdict, at: number, timing: Timing): void {
  if (verdict.breach === undefined) return;
  life.value = verdict.value;
  if (verdict.breach) {
    life.clearSince = null;
    if (life.firing) return;
    life.pendingSince ??= verdict.since ?? at;
    if (at - life.pendingSince >= timing.for) {
      life.firing = true;
      life.fires++;
      life.firedSince = life.pendingSince;
      life.pendingSince = null;
    }
    return;
  }
  life.pendingSince = null;
  if (!life.firing) return;
  life.clearSince ??= at;
  if (at - life.clearSince >= timing.keepFiringFor) {
    life.firing = false;
    life.resolves++;
    life.resolvedAt = at;
    life.clearSince = null;
  }
}

/** When the lifecycle can move with no new event: a pending breach or clear coming of age. */
export function lifeDeadline(life: Life, timing: Timing): number | undefined {
  if (life.pendingSince !== null) return life.pendingSince + timing.for;
  if (life.clearSince !== null) return life.clearSince + timing.keepFiringFor;
  return undefined;
}
