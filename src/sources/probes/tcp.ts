import { connect } from 'node:net';
import { z } from 'zod';
import { integer } from '../../config/fields.js';
import { failed, probeBase } from './fields.js';
import type { ProbeOutcome } from './fields.js';

/** A port that accepts a connection within the timeout (the seed's SSH-port and API-port checks). */
export const tcpProbeSchema = z
  .object({
    kind: z.literal('tcp'),
    ...probeBase,
    host: z.string().min(1),
    port: integer(1, 65_535),
  })
  .strict();

export type TcpProbeSpec = z.output<typeof tcpProbeSchema>;

/**
 * Connects and hangs up politely; the value is the connect time in ms. Whatever the server sends
 * (an SSH banner) is read and dropped and the probe ends with a FIN, not a RST: a socket closed
 * with unread data resets the connection, which real services log (or crash on) every probe. The
 * outcome is settled at connect; the run ends when the server closes too, or at the timeout.
 */
export function runTcpProbe(spec: TcpProbeSpec): Promise<ProbeOutcome> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  return new Promise((resolve) => {
    const socket = connect({ host: spec.host, port: spec.port });
    let outcome: ProbeOutcome | undefined;
    const finish = (last: ProbeOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(last);
    };
    const timer = setTimeout(
      () =>
        finish(outcome ?? failed(`no connection within ${spec.timeout} ms`, elapsed(), { connectMs: null })),
      spec.timeout,
    );
    socket.once('connect', () => {
      const connectMs = elapsed();
      outcome = { ok: true, value: connectMs, data: { connectMs } };
      socket.resume();
      socket.end();
    });
    // After the connect, an error (the server resetting) no longer changes the outcome.
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish(outcome ?? failed(err.code ?? err.message, elapsed(), { connectMs: null })),
    );
    socket.once('close', () => {
      if (outcome) finish(outcome);
    });
  });
}
