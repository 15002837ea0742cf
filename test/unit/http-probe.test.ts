import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHttpProbe } from '../../src/sources/probes/http.js';
import type { HttpProbeSpec } from '../../src/sources/probes/schema.js';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/moved') {
      res.writeHead(302, { location: '/ok' });
      return void res.end();
    }
    if (req.url === '/ok') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ status: 'healthy' }));
    }
    if (req.url === '/trickle') {
      // Headers at once, then a body that never ends.
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.write('{"status":');
    }
    if (req.url === '/endless') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      return pump();
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const probe = (path: string, extra: Partial<HttpProbeSpec> = {}): HttpProbeSpec => ({
  kind: 'http',
  name: 'p',
  url: `${base}${path}`,
  method: 'GET',
  every: 5000,
  timeout: 1000,
  expectStatus: [200],
  maxBodyBytes: 65536,
  followRedirects: false,
  labels: {},
  ...extra,
});

describe('HTTP probe', () => {
  it('does not follow a redirect unless configured: the 3xx is its status', async () => {
    const plain = await runHttpProbe(probe('/moved'));
    expect(plain).toMatchObject({ ok: false, data: { status: 302, error: 'status 302' } });
    expect((await runHttpProbe(probe('/moved', { expectStatus: [302] }))).ok).toBe(true);
    const followed = await runHttpProbe(
      probe('/moved', { followRedirects: true, expectJson: { status: 'healthy' } }),
    );
    expect(followed).toMatchObject({ ok: true, data: { status: 200 } });
  });

  it('times out a body that never ends: the timeout covers the whole exchange', async () => {
    const outcome = await runHttpProbe(
      probe('/trickle', { timeout: 300, expectJson: { status: 'healthy' } }),
    );
    expect(outcome).toMatchObject({ ok: false, data: { status: null, error: 'timed out after 300 ms' } });
  });

  it('stops reading a body past maxBodyBytes instead of holding it all', async () => {
    const withJson = await runHttpProbe(
      probe('/endless', { maxBodyBytes: 65536, timeout: 5000, expectJson: { status: 'healthy' } }),
    );
    expect(withJson).toMatchObject({
      ok: false,
      data: { status: 200, error: 'body larger than 65536 bytes, JSON not checked' },
    });
    // Without a body check, the status alone decides.
    expect(await runHttpProbe(probe('/endless', { maxBodyBytes: 1024, timeout: 5000 }))).toMatchObject({
      ok: true,
      data: { status: 200 },
    });
  });
});
