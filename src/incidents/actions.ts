import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { ChannelName } from '../contracts/channels.js';
import { actorText, type Actor, type Incident } from '../contracts/incident.js';
import { toIncident, type IncidentRow } from './row.js';
import { owedToTold } from './owed.js';

export interface ActionOutcome {
  /** False: nothing to do (already acknowledged, resolved, no such incident); `message` says why. */
  changed: boolean;
  incident: Incident | undefined;
  /** For people: "Acknowledged #12", "#12 was already acknowledged by bob (cli) at 10:02:03Z". */
  message: string;
}

export interface ActionDeps {
  pool: pg.Pool;
  leaseForMs: number;
  /** An acknowledgement lapses after this (0: never). */
  ackExpiryMs: number;
  /** Queues the delivery jobs of a lease now; without it (the CLI) the rows are unleased and the sweeper queues them on its next pass. */
  enqueue?: (leaseId: string, channels: readonly ChannelName[]) => Promise<void>;
  /** Starts an incident's series over after a resolve by hand (see rules/series-restart.ts). */
  restartSeries?: (fingerprint: string) => Promise<void>;
}

type Row = IncidentRow & { lease_channels: ChannelName[] | null };

const at = (d: Date | null) => (d ? d.toISOString().slice(11, 19) + 'Z' : '?');

/**
 * What people do to incidents: acknowledge, take it back, resolve by hand, say it was noise. Each is
 * one statement whose WHERE is the guard: of two people (or agents) pressing at once, one changes
 * the incident and the other is told it was already done. Each transition is owed to every target
 * already told about the incident, in the same statement.
 */
export class IncidentActions {
  constructor(private readonly d: ActionDeps) {}

  ack(id: string, actor: Actor, note = ''): Promise<ActionOutcome> {
    return this.transition(id, actor, note, {
      kind: 'acknowledged',
      from: `state = 'firing'`,
      set: `state = 'acknowledged', acknowledged_at = now(), acknowledged_by = $2,
        ack_expires_at = CASE WHEN $7::float8 > 0 THEN now() + $7 * interval '1 millisecond' END, escalate_at = NULL`,
      params: [this.d.ackExpiryMs],
      done: (i) => `Acknowledged #${i.id}`,
    });
  }

  unack(id: string, actor: Actor, note = ''): Promise<ActionOutcome> {
    return this.transition(id, actor, note, {
      kind: 'unacknowledged',
      from: `state = 'acknowledged'`,
      // Escalation starts over: whoever took it back is not handling it.
      set: `state = 'firing', acknowledged_at = NULL, acknowledged_by = NULL, ack_expires_at = NULL,
        escalation_step = 0, escalate_at = now() + ack_sla_ms * interval '1 millisecond'`,
      done: (i) => `#${i.id} is no longer acknowledged: firing, escalation restarted`,
    });
  }

  resolve(id: string, actor: Actor, note = ''): Promise<ActionOutcome> {
    return this.transition(id, actor, note ? `resolved by hand: ${note}` : 'resolved by hand', {
      kind: 'resolved',
      from: `state <> 'resolved'`,
      set: `state = 'resolved', resolved_at = now(), resolved_by = $2, escalate_at = NULL, ack_expires_at = NULL`,
      done: (i) => `Resolved #${i.id} by hand`,
      after: async (i) => {
        if (!this.d.restartSeries) return '';
        try {
          await this.d.restartSeries(i.fingerprint);
          return '; if its condition still holds it will fire again as a new incident';
        } catch {
          // Redis away: the series fires again only once its condition has cleared and come back.
          return '; its series could not be restarted (Redis unreachable): it fires again only after it clears';
        }
      },
    });
  }

  /** "Not actionable": kept per rule for noise reports; changes nothing else, tells nobody. */
  async feedback(id: string, actor: Actor, kind: 'not-actionable', note = ''): Promise<ActionOutcome> {
    const who = actorText(actor);
    const { rows } = await this.d.pool.query<IncidentRow>(
      `WITH fb AS (
         INSERT INTO vigil_feedback (incident_id, rule_id, kind, actor, note)
         SELECT id, rule_id, $2, $3, $4 FROM vigil_incidents WHERE id = $1
         ON CONFLICT DO NOTHING RETURNING incident_id),
       upd AS (
         UPDATE vigil_incidents i SET seq = i.seq + 1, updated_at = now() FROM fb WHERE i.id = fb.incident_id
         RETURNING i.*),
       tr AS (
         INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, note)
         SELECT id, seq, state, state, 'feedback', $3, $2 || CASE WHEN $4 = '' THEN '' ELSE ': ' || $4 END FROM upd)
       SELECT * FROM upd`,
      [id, kind, who, note],
    );
    if (rows[0]) return { changed: true, incident: toIncident(rows[0]), message: `Noted #${id} as ${kind}` };
    const incident = await this.get(id);
    return {
      changed: false,
      incident,
      message: incident ? `#${id} was already marked ${kind} by ${who}` : `no incident #${id}`,
    };
  }

  private async transition(
    id: string,
    actor: Actor,
    note: string,
    t: {
      kind: string;
      from: string;
      set: string;
      params?: unknown[];
      done: (i: Incident) => string;
      /** Runs once the transition committed; what it returns is added to the message. */
      after?: (i: Incident) => Promise<string>;
    },
  ): Promise<ActionOutcome> {
    if (!/^\d{1,18}$/.test(id)) return { changed: false, incident: undefined, message: `no incident #${id}` };
    const lease = randomUUID();
    const { rows } = await this.d.pool.query<Row>(
      // FOR UPDATE: the row as the last committer left it, so the guard judges the latest state.
      `WITH cur AS (SELECT id, state FROM vigil_incidents WHERE id = $1 FOR UPDATE),
       upd AS (
         UPDATE vigil_incidents i SET ${t.set}, seq = i.seq + 1, updated_at = now()
         FROM cur WHERE i.id = cur.id AND cur.${t.from} RETURNING i.*, cur.state AS from_state),
       tr AS (
         INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, note)
         SELECT id, seq, from_state, state, $3, $2, $4 FROM upd),
       t AS (SELECT id, seq, $3::text AS kind FROM upd),
       ${owedToTold('$5', '$6')}
       SELECT upd.*, (SELECT array_agg(DISTINCT channel) FROM dl) AS lease_channels FROM upd`,
      [
        id,
        actorText(actor),
        t.kind,
        note,
        this.d.enqueue ? lease : null,
        this.d.leaseForMs,
        ...(t.params ?? []),
      ],
    );
    const row = rows[0];
    if (!row) {
      const incident = await this.get(id);
      return {
        changed: false,
        incident,
        message: incident ? unchanged(incident, t.kind) : `no incident #${id}`,
      };
    }
    const incident = toIncident(row);
    if (row.lease_channels?.length && this.d.enqueue) await this.d.enqueue(lease, row.lease_channels);
    const more = t.after ? await t.after(incident) : '';
    return { changed: true, incident, message: t.done(incident) + more };
  }

  private async get(id: string): Promise<Incident | undefined> {
    const { rows } = await this.d.pool.query<IncidentRow>('SELECT * FROM vigil_incidents WHERE id = $1', [
      id,
    ]);
    return rows[0] ? toIncident(rows[0]) : undefined;
  }
}

function unchanged(i: Incident, wanted: string): string {
  if (i.state === 'resolved')
    return `#${i.id} is already resolved (at ${at(i.resolvedAt)} by ${i.resolvedBy ?? '?'})`;
  if (wanted === 'acknowledged')
    return `#${i.id} was already acknowledged by ${i.acknowledgedBy ?? '?'} at ${at(i.acknowledgedAt)}`;
  if (wanted === 'unacknowledged') return `#${i.id} is not acknowledged`;
  return `#${i.id} is ${i.state}`;
}
