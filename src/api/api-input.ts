import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { VigilError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';

export interface Issue {
  path: string;
  message: string;
}

/** A request whose params, query or body do not fit: 400 with each field and what is wrong with it. */
export class ApiInputError extends VigilError {
  constructor(readonly issues: readonly Issue[]) {
    super('E_API_INPUT', issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  }
}

/** `value` checked against `schema`; every problem is named as `<where>.<field>`. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, where: 'params' | 'query' | 'body'): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw new ApiInputError(
    result.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message })),
  );
}

/** A refused request, counted and logged at warn with why (never the body: it may carry secrets). */
export function refuse(
  deps: { metrics: Metrics; log: Logger },
  surface: 'api' | 'ack',
  req: FastifyRequest,
  reason: string,
  detail?: string,
): void {
  deps.metrics.inc('vigil_http_refused_total', { surface, reason });
  deps.log.warn(
    { surface, method: req.method, url: req.routeOptions.url ?? req.url, reason, detail },
    'request refused',
  );
}

/**
 * The API's error handler: bad input (ours or Fastify's, e.g. malformed JSON) is a 400 naming the
 * problem; anything else is a 500 that says nothing of the inside, logged in full.
 */
export function apiErrorHandler(deps: { metrics: Metrics; log: Logger }) {
  return async (err: FastifyError, req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (err instanceof ApiInputError) {
      refuse(deps, 'api', req, 'bad-input', err.message);
      await reply.code(400).send({ error: err.message, issues: err.issues });
      return;
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      refuse(deps, 'api', req, 'bad-request', err.message);
      await reply.code(status).send({ error: err.message, issues: [{ path: 'body', message: err.message }] });
      return;
    }
    deps.metrics.inc('vigil_http_refused_total', { surface: 'api', reason: 'internal' });
    deps.log.error({ err: errorMessage(err), url: req.url }, 'API request failed');
    await reply.code(500).send({ error: 'internal error; the agent log has the details' });
  };
}
