import type { ConnectionEvents } from '../connection-watch.js';
import { PgListener } from '../sources/postgres/listener.js';
import type { ThresholdStore } from './thresholds.js';

/** The channel the audit trigger of `vigil_thresholds` notifies (migrations 001, 003). */
export const thresholdsChannel = 'vigil_thresholds';

/**
 * Whether a notification is about this schema's table: payloads are `<schema>` or `<schema>:<rule>`
 * (agents of other schemas share the channel). A bare rule id from a table not migrated to 003 yet
 * is not recognised; the store's periodic reread still picks that change up.
 */
export function concernsSchema(payload: string, schema: string): boolean {
  return payload === schema || payload.startsWith(`${schema}:`);
}

/**
 * Keeps a ThresholdStore current: reloads it on each change to the table and on every (re)connect
 * of the LISTEN connection, since changes made while it was down were not heard.
 */
export function listenForThresholds(opts: {
  url: string;
  applicationName: string;
  schema: string;
  store: ThresholdStore;
  events: ConnectionEvents;
}): PgListener {
  const reload = () => void opts.store.refresh();
  return new PgListener({
    url: opts.url,
    applicationName: opts.applicationName,
    channels: [thresholdsChannel],
    events: opts.events,
    onConnected: reload,
    onNotification: (_channel, payload) => {
      if (concernsSchema(payload, opts.schema)) reload();
    },
  });
}
