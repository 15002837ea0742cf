import type pg from 'pg';
import type { Incident } from '../contracts/incident.js';
import { toIncident, type IncidentRow } from './row.js';

/** `open` is firing or acknowledged: anything not resolved yet. */
export const stateFilters = ['open', 'firing', 'acknowledged', 'resolved', 'all'] as const;
export type StateFilter = (typeof stateFilters)[number];

export interface ListQuery {
  state: StateFilter;
  rule?: string | undefined;
  limit: number;
}

/** Incidents newest first, filtered by state and rule; every value reaches SQL as a parameter. */
export async function listIncidents(pool: pg.Pool, q: ListQuery): Promise<Incident[]> {
  const { rows } = await pool.query<IncidentRow>(
    `SELECT * FROM vigil_incidents
     WHERE ($1 = 'all' OR ($1 = 'open' AND state <> 'resolved') OR state = $1)
       AND ($2::text IS NULL OR rule_id = $2)
     ORDER BY started_at DESC, id DESC
     LIMIT $3`,
    [q.state, q.rule ?? null, q.limit],
  );
  return rows.map(toIncident);
}
