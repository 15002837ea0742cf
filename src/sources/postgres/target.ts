import { ConnectionWatch } from '../../connection-watch.js';
import { redactUrl } from '../../log.js';
import type { SourceContext } from '../kind.js';

/** The database a postgres source watches: where, how its events name the host, and its connections. */
export interface PgTarget {
  url: string;
  /** The database server's host name, for the events' `host`. */
  host: string;
  watch: ConnectionWatch;
  /** application_name of one of the source's connections: `vigil <agent> <source> <role>`. */
  applicationName(role: string): string;
}

export function pgTarget(spec: { name: string; url?: string | undefined }, ctx: SourceContext): PgTarget {
  const url = spec.url ?? ctx.config.database.url;
  const parsed = new URL(url);
  // A URL without a host connects through the local socket (or the host= query parameter).
  const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
  return {
    url,
    host,
    watch: new ConnectionWatch('postgres', redactUrl(url), ctx.log, ctx.metrics),
    applicationName: (role) => `vigil ${ctx.agentId} ${spec.name} ${role}`,
  };
}
