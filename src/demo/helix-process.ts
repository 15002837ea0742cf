import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { readEnvPort } from '../config/env-file.js';
import { VigilError } from '../errors.js';
import { setEnvValue } from '../remediate/service/env-file.js';
import { pickPort } from '../remediate/service/free-port.js';
import { waitHealthy } from '../remediate/service/health-wait.js';
import { findServicePids } from '../remediate/service/pids.js';
import { restartServiceSchema, type RestartServiceSpec } from '../remediate/service/spec.js';
import { startService } from '../remediate/service/start.js';
import { stopProcesses } from '../remediate/service/stop.js';

const script = fileURLToPath(new URL('./helix-api.mjs', import.meta.url));

export interface HelixProcess {
  dir: string;
  envFile: string;
  /** vigil.yaml `remediation.targets.helix-api` for the demo (restart-service). */
  target: { action: 'restart-service' } & Record<string, unknown>;
  /** The port .env names now (restart-service rewrites it when it moves the API). */
  port(): Promise<number | undefined>;
  /** Pids of the running API, found as restart-service finds them. */
  pids(): Promise<number[]>;
  /** SIGKILL to the API's process group (it was started detached, so it leads one). */
  kill(): Promise<number[]>;
  /** Another process's socket on `port`, as the seed's port conflicts had; closed by `stop`. */
  hold(port: number): Promise<void>;
  /** Stops every API process (the one Vigil restarted too) and the holder. */
  stop(): Promise<void>;
}

/**
 * The demo's HELIX API as a real, detached process in `dir` with its own .env and log, started the
 * way restart-service starts it, on the first free port of `ports`.
 */
export async function startHelixProcess(
  dir: string,
  ports: { from: number; to: number },
): Promise<HelixProcess> {
  await mkdir(dir, { recursive: true });
  const target = {
    action: 'restart-service' as const,
    cwd: dir,
    command: [process.execPath, script],
    envFile: '.env',
    log: 'helix-api.log',
    ports,
    grace: '2s',
    health: { within: '10s' },
    // The demo cannot count on an SSH server on the machine it runs on; a real target keeps the
    // default (22) so that a restart never runs on a host nobody could log into.
    sshPort: false,
  };
  const spec: RestartServiceSpec = restartServiceSchema.parse(target);
  const envFile = join(dir, '.env');
  const pick = await pickPort(undefined, ports);
  if (pick.port === undefined)
    throw new VigilError('demo_no_port', `the demo's HELIX API: ${pick.why} (try --api-ports)`);
  await setEnvValue(envFile, 'API_PORT', String(pick.port));
  const holders: Server[] = [];
  const pids = async () => (await findServicePids(spec)).pids;
  const stop = async () => {
    await Promise.all(holders.map((h) => new Promise((done) => h.close(done))));
    await stopProcesses(await pids(), 2000);
  };
  const started = await startService(spec, pick.port);
  if ('error' in started) throw new VigilError('demo_api_start', `the demo's HELIX API: ${started.error}`);
  const health = await waitHealthy({
    url: `http://127.0.0.1:${pick.port}/api/v1/health`,
    expectStatus: [200],
    withinMs: 10_000,
    signal: new AbortController().signal,
    hopeless: started.ended,
  });
  if (!health.healthy) {
    await stop();
    throw new VigilError('demo_api_start', `the demo's HELIX API did not come up: ${health.why}`);
  }
  return {
    dir,
    envFile,
    target,
    port: async () => {
      const found = await readEnvPort(envFile, 'API_PORT');
      return 'port' in found ? found.port : undefined;
    },
    pids,
    kill: async () => {
      const found = await pids();
      for (const pid of found) process.kill(-pid, 'SIGKILL');
      return found;
    },
    hold: async (port) => void holders.push(await listenWhenFree(port)),
    stop,
  };
}

/** Listens on `port` as soon as the process that had it is gone (a SIGKILL is not instant). */
async function listenWhenFree(port: number): Promise<Server> {
  for (let attempt = 0; ; attempt++) {
    const server = createServer((socket) => socket.destroy());
    const err = await new Promise<NodeJS.ErrnoException | undefined>((done) => {
      server.once('error', done);
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => done(undefined));
    });
    if (!err) return server;
    if (err.code !== 'EADDRINUSE' || attempt >= 100) throw err;
    await sleep(50);
  }
}
