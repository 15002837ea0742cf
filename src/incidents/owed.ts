/**
 * SQL shared by every transition statement, so a transition and what it owes always commit together.
 * Each expects a CTE `t (id, seq, kind)`: the transitions the statement made.
 */

/**
 * Owes each transition to every target already told about its incident (rows of earlier
 * notifications, not counting stand-ins for another channel), leased to `<lease>.<channel>`; with
 * no lease (NULL: no job will be queued for it) the sweeper queues them on its next pass. An
 * incident nobody was told of (silenced, inhibited from the start) owes nothing.
 */
export const owedToTold = (lease: string, leaseFor: string) => `
  told AS (
    SELECT DISTINCT t.id, t.seq, t.kind, d.channel, d.target
    FROM t JOIN vigil_deliveries d ON d.incident_id = t.id AND d.fallback_from IS NULL),
  dl AS (
    INSERT INTO vigil_deliveries (incident_id, channel, target, seq, kind, state, lease_id, lease_until)
    SELECT id, channel, target, seq, kind, 'owed', ${lease}::text || '.' || channel,
      CASE WHEN ${lease}::text IS NOT NULL THEN now() + ${leaseFor} * interval '1 millisecond' END
    FROM told ON CONFLICT DO NOTHING RETURNING channel)`;
