import type { Incident } from '../../src/contracts/incident.js';

/** A firing critical incident with every field set; tests override only what they are about. */
export function incident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: '42',
    fingerprint: 'fp',
    ruleId: 'helix-api-down',
    title: 'HELIX API health check failing',
    category: 'availability',
    severity: 'critical',
    labels: { service: 'helix-api', host: 'box-1' },
    state: 'firing',
    value: 3,
    summary: '3 consecutive failures of /api/v1/health',
    startedAt: new Date('2024-05-01T10:00:00.000Z'),
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    ackSlaMs: 900_000,
    seq: 1,
    targets: [],
    policy: null,
    escalationStep: 0,
    ackExpiresAt: null,
    resolvedBy: null,
    held: null,
    heldBy: null,
    ...overrides,
  };
}
