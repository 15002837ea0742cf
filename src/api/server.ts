import Fastify, { type FastifyInstance } from 'fastify';
import { DependencyError } from '../errors.js';
import type { Health } from '../health.js';
import type { Metrics } from '../metrics.js';
import { mountOncall, type OncallHttpDeps } from './oncall-http.js';
import { healthRoutes, type HealthCheck } from './health-routes.js';
import { metricsRoutes } from './metrics-routes.js';
import { slackInteractions, type SlackInteractionsOptions } from './slack-interactions.js';

export type { HealthCheck };

export interface HttpDeps {
  metrics: Metrics;
  health: Health;
  checks: readonly HealthCheck[];
  agentId: string;
  /** How long a dependency check may take (default 2 s). */
  checkTimeoutMs?: number;
  /** POST /slack/interactions (refuses everything when no signing secret is configured). */
  slack?: SlackInteractionsOptions;
  /** The JSON API and email acknowledge links: each mounted only when its secret is configured. */
  oncall?: OncallHttpDeps;
}

/**
 * The agent's one HTTP port. Each surface is a Fastify plugin (health and metrics now; the JSON
 * API, Slack interactivity and dashboard mount beside them).
 */
export function createHttpServer(deps: HttpDeps): FastifyInstance {
  // Request logging off: probes of /healthz and /metrics would drown the agent's own records.
  // maxParamLength: an acknowledge link's token (/ack/:token) is longer than Fastify's default 100.
  const app = Fastify({ logger: false, maxParamLength: 1024 });
  void app.register(healthRoutes, deps);
  void app.register(metricsRoutes, { metrics: deps.metrics });
  if (deps.slack) void app.register(slackInteractions, deps.slack);
  if (deps.oncall) mountOncall(app, deps.oncall, deps.metrics);
  return app;
}

/** Listens, turning a taken port into one line that names it and how to choose another. */
export async function listenHttp(app: FastifyInstance, host: string, port: number): Promise<string> {
  try {
    return await app.listen({ host, port });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new DependencyError(
        'E_HTTP_PORT',
        code === 'EADDRINUSE'
          ? `HTTP port ${port} on ${host} is already in use`
          : `no permission to listen on HTTP port ${port} on ${host}`,
        'stop what holds it, or choose another port with VIGIL_HTTP_PORT or http.port',
        { cause: err },
      );
    }
    throw err;
  }
}
