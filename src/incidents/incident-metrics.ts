import type { Pool } from '../db/pool.js';
import { sharedLoad, type Metrics } from '../metrics.js';
import type { Severity } from '../contracts/incident.js';

const severities = ['critical', 'high', 'warning', 'info'] as const satisfies readonly Severity[];

/** Open (firing or acknowledged) incidents by severity, counted in PostgreSQL at scrape time. */
export function registerIncidentMetrics(metrics: Metrics, pool: Pool): void {
  const counts = sharedLoad(async () => {
    const { rows } = await pool.query<{ severity: string; n: number }>(
      `SELECT severity, count(*)::int AS n FROM vigil_incidents WHERE state <> 'resolved' GROUP BY severity`,
    );
    return new Map(rows.map((r) => [r.severity, r.n]));
  });
  for (const severity of severities) {
    metrics.gauge('vigil_incidents_open', { severity }, async () => (await counts()).get(severity) ?? 0);
  }
}
