import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { httpRequest, httpRequestSchema } from '../../src/remediate/actions/http-request.js';
import { recordingContext } from '../support/step-recorder.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server;
let base: string;
let received: Received[];

/** A webhook receiver: /ok answers 200, /fail 500, /moved redirects to /ok, /big is large, /hang never answers. */
beforeEach(async () => {
  received = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (req.url === '/hang') return;
      if (req.url === '/moved') return res.writeHead(302, { location: '/ok' }).end();
      if (req.url === '/big') return res.end('y'.repeat(100_000));
      res.writeHead(req.url === '/fail' ? 500 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ restarted: req.url !== '/fail' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const spec = (path: string, extra: Record<string, unknown> = {}) =>
  httpRequestSchema.parse({ action: 'http-request', url: `${base}${path}`, ...extra });

describe('http-request', () => {
  it('sends the configured method, headers and JSON body, and records the answer', async () => {
    const ctx = recordingContext();
    const result = await httpRequest.run(
      spec('/ok', {
        headers: { authorization: 'Bearer t0k3n', 'x-vigil': 'helix' },
        body: { service: 'helix' },
      }),
      ctx,
    );
    expect(result).toEqual({ outcome: 'done', summary: `POST ${base}/…: status 200` });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/ok', body: '{"service":"helix"}' });
    expect(received[0]?.headers).toMatchObject({
      authorization: 'Bearer t0k3n',
      'x-vigil': 'helix',
      'content-type': 'application/json',
    });
    expect(ctx.steps).toEqual([
      {
        name: 'request',
        outcome: 'ok',
        detail: expect.stringMatching(/^status 200 in \d+ ms$/),
        output: '{"restarted":true}',
      },
    ]);
  });

  it('sends a text body as it is', async () => {
    await httpRequest.run(spec('/ok', { method: 'PUT', body: 'restart helix' }), recordingContext());
    expect(received[0]).toMatchObject({ method: 'PUT', body: 'restart helix' });
    expect(received[0]?.headers['content-type']).toMatch(/^text\/plain/);
  });

  it('fails on a status it does not expect, and passes one it does', async () => {
    const ctx = recordingContext();
    const result = await httpRequest.run(spec('/fail'), ctx);
    expect(result).toEqual({ outcome: 'failed', summary: `POST ${base}/…: status 500, expected 200–299` });
    expect(ctx.steps[0]).toMatchObject({ outcome: 'failed', output: '{"restarted":false}' });
    expect((await httpRequest.run(spec('/fail', { expectStatus: [500] }), recordingContext())).outcome).toBe(
      'done',
    );
  });

  it('does not follow a redirect unless told to', async () => {
    expect((await httpRequest.run(spec('/moved'), recordingContext())).summary).toBe(
      `POST ${base}/…: status 302, expected 200–299`,
    );
    expect(received.map((r) => r.url)).toEqual(['/moved']);
    const followed = await httpRequest.run(
      spec('/moved', { method: 'GET', followRedirects: true }),
      recordingContext(),
    );
    expect(followed.outcome).toBe('done');
    expect(received.map((r) => r.url)).toEqual(['/moved', '/moved', '/ok']);
  });

  it('keeps only the first maxResponse bytes of the answer', async () => {
    const ctx = recordingContext();
    await httpRequest.run(spec('/big', { maxResponse: 10 }), ctx);
    expect(ctx.steps[0]?.output).toBe('yyyyyyyyyy\n…(more not read: the record keeps 10 bytes)');
  });

  it('fails at its timeout when nothing answers', async () => {
    const ctx = recordingContext();
    const result = await httpRequest.run(spec('/hang', { timeout: '300ms' }), ctx);
    expect(result).toEqual({ outcome: 'failed', summary: `POST ${base}/… failed: timed out after 300ms` });
    expect(ctx.steps).toEqual([{ name: 'request', outcome: 'failed', detail: 'timed out after 300ms' }]);
  });

  it('stops waiting when the run is aborted', async () => {
    const abort = new AbortController();
    const running = httpRequest.run(spec('/hang'), recordingContext(abort.signal));
    await new Promise<void>((resolve) => server.once('request', () => resolve()));
    abort.abort();
    expect(await running).toEqual({ outcome: 'failed', summary: `POST ${base}/… failed: aborted` });
  });

  it('fails when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await httpRequest.run(
      httpRequestSchema.parse({ action: 'http-request', url: `http://127.0.0.1:${port}/hook` }),
      recordingContext(),
    );
    expect(result).toEqual({
      outcome: 'failed',
      summary: `POST http://127.0.0.1:${port}/… failed: ECONNREFUSED`,
    });
  });

  it('describes the request without its path, where webhook secrets live', () => {
    expect(httpRequest.describe(spec('/services/T0/B0/s3cr3t?token=x'))).toBe(`POST ${base}/… (timeout 10s)`);
    expect(httpRequest.describe(spec('/', { method: 'GET', timeout: '2s' }))).toBe(
      `GET ${base} (timeout 2s)`,
    );
  });
});
