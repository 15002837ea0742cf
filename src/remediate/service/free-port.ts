import { createServer } from 'node:net';
import { holdersOf, listeningInodes } from '../../sources/probes/port-owner.js';

/** Something listens on the port, on any address, IPv4 or IPv6 (this host's network namespace). */
export async function isListening(port: number): Promise<boolean> {
  return (await listeningInodes(port)).size > 0;
}

/**
 * Free: nothing listens on it, and binding it on every address works right now (which also catches
 * a socket bound but not yet listening, and one that appeared since /proc was read).
 */
export async function isFree(port: number): Promise<boolean> {
  if (await isListening(port)) return false;
  const server = createServer();
  return new Promise((done) => {
    server.once('error', () => done(false));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => done(true)));
  });
}

/** Who holds the port, for the record: "pid 4242: python3 other.py", or why it cannot be said. */
export async function holderOf(port: number): Promise<string> {
  const inodes = await listeningInodes(port);
  if (inodes.size === 0) return 'bound by a socket that is not listening';
  const { pids, hidden } = await holdersOf(inodes);
  if (pids.length > 0)
    return pids.map((p) => `pid ${p.pid}: ${p.cmdline.join(' ').slice(0, 120)}`).join(', ');
  return `a process this agent cannot inspect (${hidden} not readable)`;
}

export type PortPick =
  | { port: number; kept: true }
  /** `why` says why the old port was left: taken (by whom) or not set. */
  | { port: number; kept: false; why: string }
  | { port: undefined; why: string };

/**
 * The seed's find-port.sh: keep the current port when it is free now; otherwise the first free
 * port of the range.
 */
export async function pickPort(
  current: number | undefined,
  range: { from: number; to: number },
): Promise<PortPick> {
  let why = 'no valid port was set';
  if (current !== undefined) {
    if (await isFree(current)) return { port: current, kept: true };
    why = `${current} was held by ${await holderOf(current)}`;
  }
  for (let port = range.from; port <= range.to; port++)
    if (port !== current && (await isFree(port))) return { port, kept: false, why };
  return { port: undefined, why: `${why}, and no port in ${range.from}–${range.to} is free` };
}
