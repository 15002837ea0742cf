import type { Queue } from 'bullmq';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { QueuePayloads } from '../contracts/queues.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Redis } from '../queues/connection.js';
import { enqueueActionJobs, SlackPayloadError, slackActionJobs } from './slack-actions.js';
import { slackSignatureWindowMs, verifySlackSignature } from './slack-signature.js';

export interface SlackInteractionsOptions {
  /** Without it every request is refused: the endpoint is never open. */
  signingSecret: string | undefined;
  redis: Redis;
  /** The agent's Redis key prefix (not `prefix`: Fastify would take it for a route prefix). */
  keyPrefix: string;
  queue: Queue<QueuePayloads['events']>;
  metrics: Metrics;
  log: Logger;
}

/** Slack shows the person an error after 3 s; Redis slower than this is answered 503 instead. */
const redisWithinMs = 2000;

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

const header = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

function payloadOf(raw: string): unknown {
  const payload = new URLSearchParams(raw).get('payload');
  if (payload === null) throw new SlackPayloadError('payload: missing (expected a form field "payload")');
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    throw new SlackPayloadError('payload: not JSON');
  }
}

/**
 * POST /slack/interactions: button presses from Slack. Its own authentication is the v0 signature over
 * the raw body; a replay of a signed request within the window is refused by remembering signatures
 * in Redis. The work goes to the events queue (an `action` job), so Slack gets its answer at once.
 */
export const slackInteractions: FastifyPluginAsync<SlackInteractionsOptions> = async (app, opts) => {
  const log = opts.log.child({ component: 'slack-interactions' });
  const count = (outcome: string) =>
    opts.metrics.inc('vigil_slack_interactions_total', { transport: 'http', outcome });
  const refuse = (reply: FastifyReply, outcome: string, ip: string) => {
    count(outcome);
    log.warn({ reason: outcome, ip }, 'Slack interaction refused');
    return reply.code(401).send({ error: 'unauthorized' });
  };

  // Scoped to this plugin: the signature covers the exact bytes, so every body stays a string here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.post('/slack/interactions', async (req, reply) => {
    if (!opts.signingSecret) return refuse(reply, 'no signing secret', req.ip);
    const rawBody = typeof req.body === 'string' ? req.body : '';
    const signature = header(req.headers['x-slack-signature']);
    const problem = verifySlackSignature({
      signingSecret: opts.signingSecret,
      timestamp: header(req.headers['x-slack-request-timestamp']),
      signature,
      rawBody,
    });
    if (problem || !signature) return refuse(reply, problem ?? 'missing headers', req.ip);
    try {
      // Twice the window: a signature stays refused for as long as its timestamp could still pass.
      const key = `${opts.keyPrefix}:slack-seen:${signature.slice(3)}`;
      const fresh = await within(
        opts.redis.set(key, '1', 'PX', 2 * slackSignatureWindowMs, 'NX'),
        redisWithinMs,
      );
      if (fresh === null) return refuse(reply, 'replayed', req.ip);
      const jobs = slackActionJobs(payloadOf(rawBody));
      await within(enqueueActionJobs(opts.queue, jobs), redisWithinMs);
      count(jobs.length ? 'queued' : 'ignored');
      if (jobs.length)
        log.info(
          { jobs: jobs.map((j) => `${j.data.action} #${j.data.incidentId}`) },
          'Slack interaction queued',
        );
      return reply.code(200).send();
    } catch (err) {
      if (err instanceof SlackPayloadError) {
        count('bad payload');
        log.warn({ reason: err.message }, 'Slack interaction refused');
        return reply.code(400).send({ error: err.message });
      }
      count('failed');
      log.error({ err: errorMessage(err) }, 'Slack interaction not queued');
      return reply.code(503).send({ error: 'try again' });
    }
  });
};
