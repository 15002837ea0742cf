import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHttpProbe } from '../../src/sources/probes/http.js';
import { httpProbeSchema } from '../../src/sources/probes/schema.js';

const servers: Server[] = [];
let dir: string;
let oldPort: number;
let newPort: number;

/** A server answering every request with `status`. */
async function serve(status: number): Promise<number> {
  const server = createServer((_req, res) => res.writeHead(status).end());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-port-from-env-'));
  oldPort = await serve(503); // where the URL points: the service's old port, now someone else's
  newPort = await serve(200); // where the service moved
});

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  await rm(dir, { recursive: true, force: true });
});

const probe = (file: string) =>
  httpProbeSchema.parse({
    kind: 'http',
    name: 'p',
    every: '5s',
    timeout: '1s',
    url: `http://127.0.0.1:${oldPort}/api/v1/health`,
    portFromEnv: { file },
  });

describe('HTTP probe portFromEnv', () => {
  it('asks the port the file holds now, at each run', async () => {
    const env = join(dir, 'moved.env');
    await writeFile(env, `DB=x\nAPI_PORT=${newPort}\n`);
    expect(await runHttpProbe(probe(env))).toMatchObject({ ok: true, data: { status: 200, port: newPort } });
    await writeFile(env, `DB=x\nAPI_PORT="${oldPort}"\n`);
    expect(await runHttpProbe(probe(env))).toMatchObject({ ok: false, data: { status: 503, port: oldPort } });
  });

  it("falls back to the URL's own port when the value is missing or not a port, and says so", async () => {
    const env = join(dir, 'bad.env');
    await writeFile(env, 'API_PORT=eighty\n');
    const invalid = await runHttpProbe(probe(env));
    expect(invalid).toMatchObject({ ok: false, data: { status: 503, port: oldPort } });
    expect(invalid.data.portFromEnv).toBe(`API_PORT in ${env} is "eighty", not a port`);
    const missing = await runHttpProbe(probe(join(dir, 'none.env')));
    expect(missing.data).toMatchObject({
      status: 503,
      port: oldPort,
      portFromEnv: `${join(dir, 'none.env')} does not exist`,
    });
  });

  it('takes only an absolute file and an environment variable name', () => {
    const base = { kind: 'http', name: 'p', every: '5s', url: 'http://127.0.0.1:1/' };
    const relative = httpProbeSchema.safeParse({ ...base, portFromEnv: { file: '.env' } });
    expect(relative.error?.issues[0]).toMatchObject({
      path: ['portFromEnv', 'file'],
      message: 'an absolute path',
    });
    const key = httpProbeSchema.safeParse({ ...base, portFromEnv: { file: '/x/.env', key: 'A-B' } });
    expect(key.error?.issues[0]?.path).toEqual(['portFromEnv', 'key']);
  });
});
