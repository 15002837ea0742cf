import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { VigilConfig } from '../config/schema.js';
import type { IncidentActions } from '../incidents/actions.js';
import { Silences } from '../incidents/silences.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Remediation } from '../remediate/remediation.js';
import { AckLinks } from './ack-links.js';
import { ackRoutes } from './ack-routes.js';
import { apiRoutes } from './api-routes.js';
import type { SilenceStore } from './silence-routes.js';

export interface OncallHttpDeps {
  pool: pg.Pool;
  actions: Pick<IncidentActions, 'ack' | 'unack' | 'resolve'>;
  silences: SilenceStore;
  /** Approve / Reject of a remediation run (the pipeline's: an approved run is queued at once). */
  decide: Remediation['decide'];
  /** http.apiToken: without it the JSON API is not mounted (never open by default). */
  apiToken: string | undefined;
  /** Without a link secret and publicUrl, no acknowledge link is issued and /ack is not mounted. */
  links: AckLinks | undefined;
  timeZone: string;
  log: Logger;
}

/** Mounts /api (bearer token) and /ack (signed single-use links), each with its own authentication. */
export function mountOncall(app: FastifyInstance, d: OncallHttpDeps, metrics: Metrics): void {
  const log = d.log.child({ component: 'http' });
  if (d.apiToken) {
    void app.register(apiRoutes, { ...d, token: d.apiToken, metrics, log, prefix: '/api' });
  } else {
    log.info('JSON API off: set http.apiToken to mount /api');
  }
  if (d.links?.enabled) void app.register(ackRoutes, { ...d, links: d.links, metrics, log });
}

/** The agent's acknowledge links: one instance for the email channel (create) and /ack (check, use). */
export function ackLinksFor(config: VigilConfig, pool: pg.Pool): AckLinks {
  return new AckLinks({
    pool,
    secret: config.http.linkSecret,
    publicUrl: config.publicUrl,
    ttlMs: config.oncall.ackLinkTtl,
  });
}

/** The on-call HTTP surfaces of an agent, from its config; `actions` and `decide` are the pipeline's (they queue at once). */
export function oncallHttpDeps(
  config: VigilConfig,
  pool: pg.Pool,
  log: Logger,
  actions: OncallHttpDeps['actions'],
  decide: OncallHttpDeps['decide'],
  links: AckLinks = ackLinksFor(config, pool),
): OncallHttpDeps {
  return {
    pool,
    actions,
    decide,
    silences: new Silences(pool),
    apiToken: config.http.apiToken,
    links,
    timeZone: config.oncall.timeZone,
    log,
  };
}
