import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { ChannelName } from '../contracts/channels.js';
import { REMEDIATION_PAGE } from '../contracts/incident.js';
import { owedToTold } from '../incidents/owed.js';

/**
 * What remediation tells people, and the switches it keeps: a run's news is a transition of its
 * incident (kind `remediation`, or `approval` with buttons), owed to everyone told of the incident,
 * so it reaches the Slack thread and the email thread with the same guarantees as any alert.
 */
export class RemediationRecord {
  constructor(
    private readonly pool: pg.Pool,
    private readonly leaseForMs: number,
    /** Queues the delivery jobs of a lease now (the sweeper would otherwise within its interval). */
    private readonly enqueue: (leaseId: string, channels: readonly ChannelName[]) => Promise<void>,
  ) {}

  /**
   * Tells everyone told of the incident. Tried a few times: the run's state has moved already, so
   * a note lost to a passing PostgreSQL error would not be written by anyone else.
   */
  tell(
    incidentId: string,
    runId: string,
    kind: 'remediation' | 'approval',
    note: string,
    actor: string,
  ): Promise<void> {
    return persist(() => this.tellOnce(incidentId, runId, kind, note, actor));
  }

  private async tellOnce(
    incidentId: string,
    runId: string,
    kind: 'remediation' | 'approval',
    note: string,
    actor: string,
  ): Promise<void> {
    const lease = randomUUID();
    const { rows } = await this.pool.query<{ lease_channels: ChannelName[] | null }>(
      `WITH upd AS (
         UPDATE vigil_incidents i SET seq = i.seq + 1, updated_at = now() WHERE i.id = $1
         RETURNING i.id, i.seq, i.state),
       tr AS (
         INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, note, run_id)
         SELECT id, seq, state, state, $2, $3, $4, $5 FROM upd),
       t AS (SELECT id, seq, $2::text AS kind FROM upd),
       ${owedToTold('$6', '$7')}
       SELECT (SELECT array_agg(DISTINCT channel) FROM dl) AS lease_channels`,
      [incidentId, kind, actor, note, runId, lease, this.leaseForMs],
    );
    const channels = rows[0]?.lease_channels ?? [];
    // Committed: a lost job only delays it (the sweeper queues rows whose lease lapsed), and a retry
    // of the whole would tell it twice.
    if (channels.length) await this.enqueue(lease, channels).catch(() => undefined);
  }

  /**
   * Pages now: the incident's next escalation step is due at once (its policy, its targets). An
   * acknowledged or held incident is not escalated: someone has it, or it is held on purpose; the
   * thread note is what they see.
   */
  async escalate(incidentId: string, why: string): Promise<boolean> {
    const { rowCount } = await persist(() =>
      this.pool.query(
        `UPDATE vigil_incidents SET escalate_at = now(), escalate_why = $2
       WHERE id = $1 AND state = 'firing' AND held IS NULL`,
        [incidentId, `${REMEDIATION_PAGE}${why}`],
      ),
    );
    return rowCount === 1;
  }

  async disabled(target: string): Promise<{ since: Date; reason: string } | undefined> {
    const { rows } = await this.pool.query<{ since: Date; reason: string }>(
      'SELECT since, reason FROM vigil_remediation_disabled WHERE target = $1 AND enabled_at IS NULL',
      [target],
    );
    return rows[0];
  }

  /** Switches the target off; false when it already was (another agent did it). */
  async disable(target: string, reason: string, runs: readonly string[]): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO vigil_remediation_disabled (target, reason, runs) VALUES ($1, $2, $3::bigint[])
       ON CONFLICT (target) DO UPDATE SET since = now(), reason = $2, runs = $3::bigint[], enabled_at = NULL
         WHERE vigil_remediation_disabled.enabled_at IS NOT NULL`,
      [target, reason, runs],
    );
    return rowCount === 1;
  }

  async enable(target: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'UPDATE vigil_remediation_disabled SET enabled_at = now() WHERE target = $1 AND enabled_at IS NULL',
      [target],
    );
    return rowCount === 1;
  }

  async listDisabled(): Promise<Array<{ target: string; since: Date; reason: string; runs: string[] }>> {
    const { rows } = await this.pool.query<{ target: string; since: Date; reason: string; runs: string[] }>(
      'SELECT target, since, reason, runs::text[] AS runs FROM vigil_remediation_disabled WHERE enabled_at IS NULL ORDER BY since',
    );
    return rows;
  }
}

/** Three tries, 0.2 s then 1 s apart; the last error is the caller's. */
async function persist<T>(fn: () => Promise<T>): Promise<T> {
  for (const waitMs of [200, 1000]) {
    try {
      return await fn();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
  return fn();
}
