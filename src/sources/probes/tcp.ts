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

/** Connects and hangs up at once; the value is the connect time in ms. */
export function runTcpProbe(spec: TcpProbeSpec): Promise<ProbeOutcome> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  return new Promise((resolve) => {
    const socket = connect({ host: spec.host, port: spec.port });
    const done = (outcome: ProbeOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () => done(failed(`no connection within ${spec.timeout} ms`, elapsed(), { connectMs: null })),
      spec.timeout,
    );
    socket.once('connect', () => {
      const connectMs = elapsed();
      done({ ok: true, value: connectMs, data: { connectMs } });
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(failed(err.code ?? err.message, elapsed(), { connectMs: null })),
    );
  });
}
