import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Actor } from '../contracts/incident.js';
import { errorMessage } from '../errors.js';
import type { IncidentActions } from '../incidents/actions.js';
import { IncidentStore } from '../incidents/store.js';
import { zonedTime } from '../incidents/time-text.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { confirmPage, donePage, refusedPage } from './ack-pages.js';
import type { AckLinks, Checked } from './ack-links.js';
import { refuse } from './api-input.js';

export interface AckRoutesDeps {
  links: AckLinks;
  pool: pg.Pool;
  actions: Pick<IncidentActions, 'ack'>;
  timeZone: string;
  metrics: Metrics;
  log: Logger;
}

const actor: Actor = { name: 'email link', via: 'email' };

const refusals: Record<
  Exclude<Checked, { ok: true }>['reason'] | 'already-used' | 'unknown',
  [number, string, string]
> = {
  malformed: [
    400,
    'Not an acknowledge link',
    'This link is incomplete or damaged. Open it again from the email.',
  ],
  signature: [400, 'Not an acknowledge link', 'This link was not issued by this Vigil, or it was altered.'],
  expired: [
    410,
    'Link expired',
    'This acknowledge link has expired. Acknowledge from Slack or `vigil incidents ack`.',
  ],
  'already-used': [410, 'Link already used', 'This acknowledge link has already been used; each works once.'],
  unknown: [
    404,
    'Unknown link',
    'This acknowledge link is not known here (its incident may have been removed).',
  ],
};

/**
 * GET /ack/:token shows what the link would acknowledge and a button; POST /ack/:token (the
 * button) uses the token once and acknowledges. Every answer is a page, never a stack trace.
 */
export const ackRoutes: FastifyPluginAsync<AckRoutesDeps> = async (app, deps) => {
  const store = new IncidentStore(deps.pool);
  // The confirmation form posts url-encoded; it carries nothing the route reads.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, _body, done) =>
    done(null, {}),
  );
  const send = (reply: FastifyReply, status: number, html: string) =>
    reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  const refused = (req: FastifyRequest, reply: FastifyReply, reason: keyof typeof refusals) => {
    const [status, title, message] = refusals[reason];
    refuse(deps, 'ack', req, reason);
    return send(reply, status, refusedPage(title, message));
  };
  app.setErrorHandler(async (err, req, reply) => {
    deps.metrics.inc('vigil_http_refused_total', { surface: 'ack', reason: 'internal' });
    deps.log.error({ err: errorMessage(err), method: req.method }, 'acknowledge link failed');
    await send(
      reply,
      500,
      refusedPage('Something went wrong', 'Nothing was changed. Try again in a moment.'),
    );
  });

  app.get<{ Params: { token: string } }>('/ack/:token', async (req, reply) => {
    const checked = deps.links.check(req.params.token);
    if (!checked.ok) return refused(req, reply, checked.reason);
    const incident = await store.get(checked.incidentId);
    if (!incident) return refused(req, reply, 'unknown');
    const state =
      incident.state === 'firing'
        ? `Firing since ${zonedTime(incident.startedAt, deps.timeZone)}.`
        : incident.state === 'acknowledged'
          ? `Already acknowledged by ${incident.acknowledgedBy ?? 'someone'}.`
          : `Resolved at ${incident.resolvedAt ? zonedTime(incident.resolvedAt, deps.timeZone) : 'an unknown time'}.`;
    return send(reply, 200, confirmPage(incident, state));
  });

  app.post<{ Params: { token: string } }>('/ack/:token', async (req, reply) => {
    const checked = deps.links.check(req.params.token);
    if (!checked.ok) return refused(req, reply, checked.reason);
    const use = await deps.links.use(checked, actor.name);
    if (use !== 'used') return refused(req, reply, use);
    let outcome;
    try {
      outcome = await deps.actions.ack(checked.incidentId, actor);
    } catch (err) {
      await deps.links.release(checked.jti);
      throw err;
    }
    deps.log.info({ incident: checked.incidentId, changed: outcome.changed }, 'acknowledge link used');
    return send(reply, 200, donePage(outcome.incident, outcome.message));
  });
};
