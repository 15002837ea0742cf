import type { Hold } from '../contracts/incident.js';
import type { NotificationKind } from '../contracts/channels.js';
import type { Rule } from '../rules/schema.js';

/** An incident about to open, as the hold judges see it. */
export interface OpeningIncident {
  rule: Rule;
  fingerprint: string;
  labels: Record<string, string>;
  startedAt: Date;
}

/**
 * Why an opening incident is recorded but not sent. `notify` sends one notice of that kind to its
 * targets instead of nothing (the first incident of a flapping series says "flapping" once).
 */
export interface HoldVerdict {
  held: Hold;
  /** The silence id, the inhibiting incident id, or the flapping series' fingerprint. */
  heldBy: string;
  /** For the audit trail: "silenced by #3 (deploy, alice)", "inhibited by #12 database-unreachable". */
  note: string;
  notify?: NotificationKind;
}

/**
 * Judges a batch of openings at once (one query per batch, not per incident); returns one verdict or
 * undefined per opening, in order. Judges run in order and the first verdict wins.
 */
export interface HoldJudge {
  readonly name: string;
  judge(openings: readonly OpeningIncident[]): Promise<(HoldVerdict | undefined)[]>;
}
