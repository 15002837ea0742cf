export const incidentStates = ['firing', 'acknowledged', 'resolved'] as const;
export type IncidentState = (typeof incidentStates)[number];

export type Hold = 'silenced' | 'inhibited' | 'flapping';

export type Severity = 'critical' | 'high' | 'warning' | 'info';

/** An incident as stored in PostgreSQL (`vigil_incidents`), as every consumer sees it. */
export interface Incident {
  id: string;
  fingerprint: string;
  ruleId: string;
  title: string;
  category: string;
  severity: Severity;
  labels: Record<string, string>;
  state: IncidentState;
  /** The observed value that fired the rule (e.g. 3 consecutive failures), last one seen. */
  value: number | null;
  summary: string;
  startedAt: Date;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  resolvedAt: Date | null;
  ackSlaMs: number;
  /** Target names (vigil.yaml `targets`) its route gave it; every transition is told to them. */
  targets: string[];
  /** Escalation policy, and the last step taken (0: none yet). */
  policy: string | null;
  escalationStep: number;
  /** When the acknowledgement lapses and the incident fires again (null: it does not, or none). */
  ackExpiresAt: Date | null;
  /** Who resolved it: the agent (condition cleared) or a person (by hand). */
  resolvedBy: string | null;
  /** Recorded but not sent, and why; `heldBy` names the silence, inhibiting incident or series. */
  held: Hold | null;
  heldBy: string | null;
  /** Bumped on every transition; notifications are keyed by it so each is sent once. */
  seq: number;
}

/**
 * Who or what made a transition. Stored as one text (`actorText`) in the audit trail:
 * "alice (slack U024BE7LH)", "bob (cli)", "vigil-1" for the agent.
 */
export interface Actor {
  name: string;
  via: 'slack' | 'email' | 'cli' | 'api' | 'agent';
  /** The Slack user id, the token's name, …: what identifies the actor where they acted. */
  id?: string;
}

export const actorText = (a: Actor): string =>
  a.via === 'agent' ? a.name : `${a.name} (${a.via}${a.id ? ` ${a.id}` : ''})`;

/** How the escalation note of a page remediation asked for starts (it failed, or gave up): not "not acknowledged". */
export const REMEDIATION_PAGE = 'remediation needs a person: ';
