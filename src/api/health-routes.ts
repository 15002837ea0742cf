import type { FastifyPluginAsync } from 'fastify';
import type { Health } from '../health.js';

export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

export interface HealthRoutesOptions {
  agentId: string;
  checks: readonly HealthCheck[];
  health: Health;
  /** How long a dependency may take to answer before it counts as down. */
  checkTimeoutMs?: number;
}

async function runCheck(c: HealthCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    // A dependency that hangs (commands queue while Redis reconnects) must not hang /healthz.
    await Promise.race([
      c.check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return (err as Error).message || 'failed';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * GET /healthz: 200 `ok`, or 503 `degraded` with `problems` saying why — a dependency that does not
 * answer, or anything a component reported to `Health` (a failed channel, a stale canary, …).
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, opts) => {
  app.get('/healthz', async (_req, reply) => {
    const results = await Promise.all(
      opts.checks.map(async (c) => [c.name, await runCheck(c, opts.checkTimeoutMs ?? 2000)] as const),
    );
    const problems = {
      ...Object.fromEntries(results.filter(([, r]) => r !== 'ok')),
      ...opts.health.problems(),
    };
    const healthy = Object.keys(problems).length === 0;
    return reply.code(healthy ? 200 : 503).send({
      status: healthy ? 'ok' : 'degraded',
      agent: opts.agentId,
      checks: Object.fromEntries(results),
      ...(healthy ? {} : { problems }),
    });
  });
};
