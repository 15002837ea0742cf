import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../metrics.js';

/** GET /metrics in the Prometheus text format; gauges are read at scrape time, each time-bounded. */
export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics }> = async (app, opts) => {
  app.get('/metrics', async (_req, reply) => {
    const text = await opts.metrics.render();
    return reply.type(opts.metrics.contentType).send(text);
  });
};
