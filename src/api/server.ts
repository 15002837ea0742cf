import Fastify from 'fastify';
import type { Metrics } from '../metrics.js';

export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

export interface HttpDeps {
  metrics: Metrics;
  checks: readonly HealthCheck[];
  agentId: string;
}

/** The agent's one HTTP port: health and metrics now; the API, Slack interactivity and dashboard mount here. */
export function createHttpServer(deps: HttpDeps) {
  // Request logging off: probes of /healthz and /metrics would drown the agent's own records.
  const app = Fastify({ logger: false });
  app.get('/healthz', async (_req, reply) => {
    const results = await Promise.all(
      deps.checks.map(async (c) => {
        try {
          // A dependency that hangs (commands queue while Redis reconnects) must not hang /healthz.
          await Promise.race([
            c.check(),
            new Promise((_, reject) =>
              setTimeout(() => reject(new Error('no answer within 2s')), 2000).unref(),
            ),
          ]);
          return [c.name, 'ok'] as const;
        } catch (err) {
          return [c.name, (err as Error).message || 'failed'] as const;
        }
      }),
    );
    const healthy = results.every(([, r]) => r === 'ok');
    return reply.code(healthy ? 200 : 503).send({
      status: healthy ? 'ok' : 'degraded',
      agent: deps.agentId,
      checks: Object.fromEntries(results),
    });
  });
  app.get('/metrics', async (_req, reply) =>
    reply.type('text/plain; version=0.0.4').send(deps.metrics.render()),
  );
  return app;
}
