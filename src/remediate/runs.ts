import type pg from 'pg';
import type { StepOutcome } from './action.js';
import { toRunRow as toRun } from './run-row.js';

export const runStates = [
  'requested',
  'awaiting-approval',
  'approved',
  'running',
  'succeeded',
  'failed',
  'refused',
  'rejected',
  'expired',
  'skipped',
  'dry-run',
  'interrupted',
] as const;
export type RunState = (typeof runStates)[number];

/** States a run is still going through; every other state is how it ended. */
export const openStates: readonly RunState[] = ['requested', 'awaiting-approval', 'approved', 'running'];

/** One remediation run as stored in `vigil_remediation_runs`. */
export interface Run {
  id: string;
  incidentId: string;
  ruleId: string;
  entry: number;
  attempt: number;
  target: string;
  action: string;
  state: RunState;
  dryRun: boolean;
  outcome: string;
  requestedAt: Date;
  notBefore: Date | null;
  approvalExpiresAt: Date | null;
  decidedBy: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  agent: string | null;
  verified: boolean | null;
  recurredAt: Date | null;
}

export interface Step {
  n: number;
  name: string;
  outcome: StepOutcome;
  detail: string;
  output: string;
  at: Date;
}

export interface RunRequest {
  incidentId: string;
  ruleId: string;
  entry: number;
  attempt: number;
  target: string;
  action: string;
  /** `refused` records a request the guards turned down before it could be queued (a label naming no target). */
  state: 'requested' | 'refused';
  outcome: string;
}

/** What may change with a run's state: only the fields given are written. */
export interface RunChange {
  outcome?: string;
  notBefore?: Date | null;
  approvalExpiresAt?: Date;
  decidedBy?: string;
  started?: { agent: string; leaseMs: number };
  finished?: boolean;
  verified?: boolean | null;
  dryRun?: boolean;
}

/** `vigil_remediation_runs` and its steps. Every state change is one guarded statement. */
export class RunStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Records requests; one per incident, entry and attempt (a request made twice is made once). */
  async request(reqs: readonly RunRequest[]): Promise<Run[]> {
    if (reqs.length === 0) return [];
    const { rows } = await this.pool.query(
      `INSERT INTO vigil_remediation_runs (incident_id, rule_id, entry, attempt, target, action, state, outcome,
         finished_at)
       SELECT r.incident_id, r.rule_id, r.entry, r.attempt, r.target, r.action, r.state, r.outcome,
         CASE WHEN r.state = 'refused' THEN now() END
       FROM unnest($1::bigint[], $2::text[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[])
         AS r(incident_id, rule_id, entry, attempt, target, action, state, outcome)
       ON CONFLICT DO NOTHING RETURNING *`,
      [
        reqs.map((r) => r.incidentId),
        reqs.map((r) => r.ruleId),
        reqs.map((r) => r.entry),
        reqs.map((r) => r.attempt),
        reqs.map((r) => r.target),
        reqs.map((r) => r.action),
        reqs.map((r) => r.state),
        reqs.map((r) => r.outcome),
      ],
    );
    return rows.map(toRun);
  }

  async get(id: string): Promise<Run | undefined> {
    const { rows } = await this.pool.query('SELECT * FROM vigil_remediation_runs WHERE id = $1', [id]);
    return rows[0] ? toRun(rows[0]) : undefined;
  }

  /** Moves a run from one of `from` to `to`; undefined when it was not in one of them (someone else moved it). */
  async move(
    id: string,
    from: readonly RunState[],
    to: RunState,
    c: RunChange = {},
  ): Promise<Run | undefined> {
    const { rows } = await this.pool.query(
      `UPDATE vigil_remediation_runs SET state = $3,
         outcome = coalesce($4, outcome),
         not_before = CASE WHEN $5::boolean THEN $6::timestamptz ELSE not_before END,
         approval_expires_at = coalesce($7, approval_expires_at),
         decided_by = coalesce($8, decided_by), decided_at = CASE WHEN $8::text IS NULL THEN decided_at ELSE now() END,
         started_at = CASE WHEN $9::text IS NULL THEN started_at ELSE now() END, agent = coalesce($9, agent),
         lease_until = CASE WHEN $9::text IS NULL THEN lease_until ELSE now() + $10 * interval '1 millisecond' END,
         finished_at = CASE WHEN $11 THEN now() ELSE finished_at END,
         verified = CASE WHEN $12::boolean THEN $13::boolean ELSE verified END,
         dry_run = coalesce($14, dry_run)
       WHERE id = $1 AND state = ANY($2::text[]) RETURNING *`,
      [
        id,
        from,
        to,
        c.outcome ?? null,
        c.notBefore !== undefined,
        c.notBefore ?? null,
        c.approvalExpiresAt ?? null,
        c.decidedBy ?? null,
        c.started?.agent ?? null,
        c.started?.leaseMs ?? 0,
        c.finished ?? false,
        c.verified !== undefined,
        c.verified ?? null,
        c.dryRun ?? null,
      ],
    );
    return rows[0] ? toRun(rows[0]) : undefined;
  }

  /**
   * Starts a run: only one still waiting, of an incident still open, on a target with no other run
   * going (a unique index: the second line behind the Redis lock). `busy` when another runs there.
   */
  async claim(id: string, agent: string, leaseMs: number): Promise<Run | 'busy' | undefined> {
    try {
      const { rows } = await this.pool.query(
        `UPDATE vigil_remediation_runs r SET state = 'running', started_at = now(), agent = $2,
           lease_until = now() + $3 * interval '1 millisecond', outcome = 'running', not_before = NULL
         WHERE r.id = $1 AND r.state IN ('requested', 'approved')
           AND EXISTS (SELECT 1 FROM vigil_incidents i WHERE i.id = r.incident_id AND i.state <> 'resolved')
         RETURNING *`,
        [id, agent, leaseMs],
      );
      return rows[0] ? toRun(rows[0]) : undefined;
    } catch (err) {
      if ((err as { code?: string }).code === '23505') return 'busy';
      throw err;
    }
  }

  /**
   * A person's answer to a run waiting for approval, by the database's clock: not once it expired,
   * and no approval once its incident resolved (a rejection is always taken).
   */
  async decide(id: string, approve: boolean, actor: string): Promise<Run | undefined> {
    const { rows } = await this.pool.query(
      `UPDATE vigil_remediation_runs r SET state = $2, decided_by = $3, decided_at = now(),
         outcome = CASE WHEN $4 THEN 'approved by ' ELSE 'rejected by ' END || $3,
         finished_at = CASE WHEN $4 THEN NULL ELSE now() END
       WHERE r.id = $1 AND r.state = 'awaiting-approval'
         AND (r.approval_expires_at IS NULL OR r.approval_expires_at > now())
         AND (NOT $4 OR EXISTS (SELECT 1 FROM vigil_incidents i WHERE i.id = r.incident_id AND i.state <> 'resolved'))
       RETURNING *`,
      [id, approve ? 'approved' : 'rejected', actor, approve],
    );
    return rows[0] ? toRun(rows[0]) : undefined;
  }

  /**
   * Asks again, for every incident still open whose last run on `target` failed or was refused: a
   * new attempt, judged by the guards like the first (after a person fixed the config, or switched
   * the target on again). Returns the new runs.
   */
  async askAgain(target: string, why: string): Promise<Run[]> {
    const { rows } = await this.pool.query(
      `INSERT INTO vigil_remediation_runs (incident_id, rule_id, entry, attempt, target, action, state, outcome)
       SELECT r.incident_id, r.rule_id, r.entry, r.attempt + 1, r.target, r.action, 'requested', $2
       FROM vigil_remediation_runs r JOIN vigil_incidents i ON i.id = r.incident_id
       WHERE r.target = $1 AND i.state <> 'resolved' AND r.state IN ('refused', 'failed')
         AND NOT EXISTS (SELECT 1 FROM vigil_remediation_runs n
           WHERE n.incident_id = r.incident_id AND n.entry = r.entry AND n.attempt > r.attempt)
       ON CONFLICT DO NOTHING RETURNING *`,
      [target, why],
    );
    return rows.map(toRun);
  }

  /** Keeps a running run's lease: false when it is no longer this agent's (recorded as interrupted). */
  async renew(id: string, agent: string, leaseMs: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE vigil_remediation_runs SET lease_until = now() + $3 * interval '1 millisecond'
       WHERE id = $1 AND state = 'running' AND agent = $2`,
      [id, agent, leaseMs],
    );
    return rowCount === 1;
  }

  async step(runId: string, name: string, outcome: StepOutcome, detail: string, output = ''): Promise<void> {
    await this.pool.query(
      `INSERT INTO vigil_remediation_steps (run_id, n, name, outcome, detail, output)
       SELECT $1, coalesce(max(n), 0) + 1, $2, $3, $4, $5 FROM vigil_remediation_steps WHERE run_id = $1`,
      [runId, name, outcome, detail, output],
    );
  }

  /** The oldest run waiting to start on `target` (other than `except`), if any. */
  async nextWaiting(target: string, except: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM vigil_remediation_runs WHERE target = $1 AND id <> $2 AND state IN ('requested', 'approved')
         AND (not_before IS NULL OR not_before <= now()) ORDER BY id LIMIT 1`,
      [target, except],
    );
    return rows[0]?.id;
  }

  async steps(runId: string): Promise<Step[]> {
    const { rows } = await this.pool.query<Step>(
      'SELECT n, name, outcome, detail, output, at FROM vigil_remediation_steps WHERE run_id = $1 ORDER BY n',
      [runId],
    );
    return rows;
  }

  async forIncident(incidentId: string): Promise<Run[]> {
    const { rows } = await this.pool.query(
      'SELECT * FROM vigil_remediation_runs WHERE incident_id = $1 ORDER BY id',
      [incidentId],
    );
    return rows.map(toRun);
  }

  /** The target's runs that started since `sinceMs` ago, newest first (budget, cooldown, failures in a row). */
  async recentOf(target: string, sinceMs: number): Promise<Run[]> {
    const { rows } = await this.pool.query(
      `SELECT * FROM vigil_remediation_runs WHERE target = $1 AND started_at IS NOT NULL
         AND started_at > now() - $2 * interval '1 millisecond' ORDER BY started_at DESC`,
      [target, sinceMs],
    );
    return rows.map(toRun);
  }

  /**
   * The target's last runs that ended having acted (newest first), since it was last switched on:
   * for "K failed in a row". An interrupted run neither fails nor breaks the streak.
   */
  async lastActed(target: string, limit: number): Promise<Run[]> {
    const { rows } = await this.pool.query(
      `SELECT * FROM vigil_remediation_runs WHERE target = $1 AND state IN ('succeeded', 'failed')
         AND finished_at > coalesce(
           (SELECT enabled_at FROM vigil_remediation_disabled WHERE target = $1), '-infinity'::timestamptz)
       ORDER BY finished_at DESC NULLS LAST, id DESC LIMIT $2`,
      [target, limit],
    );
    return rows.map(toRun);
  }
}
