import type pg from 'pg';
import { toIncident, type IncidentRow } from './row.js';
import type { Incident } from '../contracts/incident.js';

/**
 * Reads incidents from PostgreSQL. Transitions (open, resolve, escalate) are set-based statements in
 * transitions.ts, each guarded so two agents racing on the same series make one transition.
 */
export class IncidentStore {
  constructor(private readonly pool: pg.Pool) {}

  async get(id: string): Promise<Incident | undefined> {
    const { rows } = await this.pool.query<IncidentRow>('SELECT * FROM vigil_incidents WHERE id = $1', [id]);
    return rows[0] ? toIncident(rows[0]) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<Map<string, Incident>> {
    if (ids.length === 0) return new Map();
    const { rows } = await this.pool.query<IncidentRow>('SELECT * FROM vigil_incidents WHERE id = ANY($1)', [
      ids,
    ]);
    return new Map(rows.map((r) => [r.id, toIncident(r)]));
  }
}
