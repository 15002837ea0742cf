import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { duration } from '../config/duration.js';
import { VigilError } from '../errors.js';
import { parseMatcher, type SilenceMatcher, type Silences } from '../incidents/silences.js';
import { ApiInputError, parseInput } from './api-input.js';

export type SilenceStore = Pick<Silences, 'add' | 'list' | 'expireOnce'>;

const matcherObject = z
  .object({
    name: z.string().min(1),
    op: z.enum(['=', '!=', '=~', '!~']),
    value: z.string(),
  })
  .strict();

const addBody = z
  .object({
    matchers: z.array(z.union([z.string().min(1), matcherObject])).min(1, 'at least one matcher'),
    for: duration.refine((ms) => ms > 0, 'must be longer than 0').optional(),
    until: z.iso
      .datetime({ offset: true, message: 'must be an ISO date-time, e.g. 2024-05-01T12:00:00Z' })
      .optional(),
    reason: z.string().trim().min(1, 'say why (kept with the silence)').max(2000),
    by: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .refine((b) => (b.for === undefined) !== (b.until === undefined), {
    message: 'give exactly one of "for" (e.g. "2h") or "until" (an ISO date-time)',
    path: ['for'],
  });

const listQuery = z.object({ all: z.enum(['true', 'false']).optional() }).strict();
const idParams = z.object({ id: z.string().regex(/^\d{1,18}$/, 'must be a silence number') });

/** The store's refusals (a bad matcher, a window that ends before it starts) are bad input. */
function asInput(err: unknown, path: string): unknown {
  return err instanceof VigilError && err.code.startsWith('E_SILENCE')
    ? new ApiInputError([{ path, message: err.message }])
    : err;
}

/** A text matcher ("rule=api-health") parsed, its problem named by its place in the list. */
function matcherAt(m: string | SilenceMatcher, i: number): SilenceMatcher {
  if (typeof m !== 'string') return m;
  try {
    return parseMatcher(m);
  } catch (err) {
    if (err instanceof VigilError)
      throw new ApiInputError([{ path: `body.matchers.${i}`, message: err.message }]);
    throw err;
  }
}

/** /api/silences: list (active and pending; `?all=true` adds expired), add, expire. */
export const silenceRoutes: FastifyPluginAsync<{ silences: SilenceStore }> = async (app, { silences }) => {
  app.get('/silences', async (req) => {
    const q = parseInput(listQuery, req.query, 'query');
    return { silences: await silences.list({ all: q.all === 'true' }) };
  });

  app.post('/silences', async (req, reply) => {
    const body = parseInput(addBody, req.body, 'body');
    const matchers = body.matchers.map(matcherAt);
    const endsAt = body.until !== undefined ? new Date(body.until) : new Date(Date.now() + (body.for ?? 0));
    if (endsAt.getTime() <= Date.now())
      throw new ApiInputError([{ path: 'body.until', message: 'is in the past' }]);
    const silence = await silences
      .add({ matchers, endsAt, createdBy: `${body.by ?? 'api'} (api)`, reason: body.reason })
      .catch((err: unknown) => Promise.reject(asInput(err, 'body.matchers')));
    return reply.code(201).send({ silence });
  });

  app.delete('/silences/:id', async (req, reply) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const done = await silences.expireOnce(id, 'api');
    if (!done) return reply.code(404).send({ error: `no silence #${id}` });
    if (!done.changed)
      return reply.code(409).send({ error: `silence #${id} has ended already`, silence: done.silence });
    return { silence: done.silence };
  });
};
