import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type pg from 'pg';
import { z } from 'zod';
import type { ActionOutcome, IncidentActions } from '../incidents/actions.js';
import { listIncidents, stateFilters } from '../incidents/incident-list.js';
import { readTimeline } from '../incidents/timeline.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { apiErrorHandler, parseInput, refuse } from './api-input.js';
import { requireBearer } from './bearer.js';
import { remediationRoutes, type RemediationRouteDeps } from './remediation-routes.js';
import { silenceRoutes, type SilenceStore } from './silence-routes.js';

export interface ApiDeps {
  token: string;
  pool: pg.Pool;
  actions: Pick<IncidentActions, 'ack' | 'unack' | 'resolve'>;
  silences: SilenceStore;
  decide: RemediationRouteDeps['decide'];
  metrics: Metrics;
  log: Logger;
}

const idParams = z.object({ id: z.string().regex(/^\d{1,18}$/, 'must be an incident number') });

const listQuery = z
  .object({
    state: z.enum(stateFilters).default('open'),
    rule: z.string().min(1).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
  })
  .strict();

const actionBody = z
  .object({
    by: z.string().trim().min(1, 'must not be empty').max(200).optional(),
    note: z.string().max(2000).optional(),
  })
  .strict();

const actionNames = ['ack', 'unack', 'resolve'] as const;

/**
 * The JSON API under /api, behind its own bearer token (`http.apiToken`): incidents (list, story
 * with its remediation runs, ack/unack/resolve), silences, and approving or rejecting a remediation
 * run. Dates are ISO strings.
 */
export const apiRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.addHook(
    'onRequest',
    requireBearer(deps.token, (req, reason) => refuse(deps, 'api', req, reason)),
  );
  app.setErrorHandler(apiErrorHandler(deps));
  app.setNotFoundHandler(async (req, reply) => {
    refuse(deps, 'api', req, 'not-found');
    await reply.code(404).send({ error: `no API route ${req.method} ${req.url.split('?')[0]}` });
  });

  app.get('/incidents', async (req) => {
    const q = parseInput(listQuery, req.query, 'query');
    return { incidents: await listIncidents(deps.pool, q) };
  });

  app.get('/incidents/:id', async (req, reply) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const timeline = await readTimeline(deps.pool, id);
    if (!timeline) {
      refuse(deps, 'api', req, 'unknown-incident');
      return notFound(reply, id);
    }
    return timeline;
  });

  for (const action of actionNames) {
    app.post(`/incidents/:id/${action}`, async (req, reply) => {
      const { id } = parseInput(idParams, req.params, 'params');
      const body = parseInput(actionBody, req.body, 'body');
      const outcome = await deps.actions[action](id, { name: body.by ?? 'api', via: 'api' }, body.note);
      if (!outcome.changed)
        refuse(deps, 'api', req, outcome.incident ? 'nothing-to-do' : 'unknown-incident', outcome.message);
      return answer(reply, id, outcome);
    });
  }

  await app.register(silenceRoutes, { silences: deps.silences });
  const { pool, decide, metrics, log } = deps;
  await app.register(remediationRoutes, { pool, decide, metrics, log });
};

async function notFound(reply: FastifyReply, id: string): Promise<FastifyReply> {
  return reply.code(404).send({ error: `no incident #${id}` });
}

/** 200 when the transition happened, 404 for no such incident, 409 when there was nothing to do. */
async function answer(reply: FastifyReply, id: string, o: ActionOutcome): Promise<FastifyReply> {
  if (o.changed) return reply.send({ changed: true, message: o.message, incident: o.incident });
  if (!o.incident) return notFound(reply, id);
  return reply.code(409).send({ error: o.message, incident: o.incident });
}
