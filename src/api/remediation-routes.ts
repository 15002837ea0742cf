import type { FastifyPluginAsync } from 'fastify';
import type pg from 'pg';
import { z } from 'zod';
import { actorText } from '../contracts/incident.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Remediation } from '../remediate/remediation.js';
import { RunStore } from '../remediate/runs.js';
import { parseInput, refuse } from './api-input.js';

export interface RemediationRouteDeps {
  pool: pg.Pool;
  metrics: Metrics;
  log: Logger;
  /** The agent's approve/reject: an approved run is queued at once. */
  decide: Remediation['decide'];
}

const runParams = z.object({ id: z.string().regex(/^\d{1,18}$/, 'must be a run number') });
const decideBody = z
  .object({ by: z.string().trim().min(1, 'must not be empty').max(200).optional() })
  .strict();

/**
 * /api/remediation/runs/:id/approve|reject: a person's answer to a run waiting for approval, as the
 * Slack buttons give it. 200 when it changed the run, 404 for no such run, 409 when there was
 * nothing to decide (decided already, expired, not asking); the run is in every answer.
 */
export const remediationRoutes: FastifyPluginAsync<RemediationRouteDeps> = async (app, deps) => {
  const store = new RunStore(deps.pool);
  for (const verb of ['approve', 'reject'] as const) {
    app.post(`/remediation/runs/:id/${verb}`, async (req, reply) => {
      const { id } = parseInput(runParams, req.params, 'params');
      const body = parseInput(decideBody, req.body, 'body');
      const run = await store.get(id);
      if (!run) {
        refuse(deps, 'api', req, 'unknown-run');
        return reply.code(404).send({ error: `no remediation run ${id}` });
      }
      const actor = actorText({ name: body.by ?? 'api', via: 'api' });
      const o = await deps.decide(run.incidentId, id, verb === 'approve', actor);
      const now = await store.get(id);
      if (!o.changed) {
        refuse(deps, 'api', req, 'nothing-to-do', o.message);
        return reply.code(409).send({ error: o.message, run: now });
      }
      return { changed: true, message: o.message, run: now };
    });
  }
};
