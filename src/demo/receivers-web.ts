import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Board, Presser } from './receivers-board.js';
import { renderPage } from './receivers-page.js';
import type { ReceivedMail } from './smtp-sink.js';

const maxFormBytes = 16_384;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    body += chunk.toString('utf8');
    if (body.length > maxFormBytes) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

/** The receivers' page: GET / shows messages and mails; POST /press presses a button, then shows the page. */
export async function startReceiversWeb(opts: {
  host: string;
  port: number;
  board: Board;
  mails: readonly ReceivedMail[];
  requestUrl: string;
  press: Presser;
}): Promise<{ url: string; close(): Promise<void> }> {
  const page = (res: ServerResponse, said: string | null): void => {
    const html = renderPage({
      entries: opts.board.entries(),
      mails: opts.mails,
      requestUrl: opts.requestUrl,
      ...(said ? { said } : {}),
    });
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
  };
  // After a press, back to the page with what happened: reloading it then presses nothing again.
  const back = (res: ServerResponse, said: string): void => {
    res.writeHead(303, { location: `/?said=${encodeURIComponent(said)}` }).end();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://receivers');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/') return page(res, url.searchParams.get('said'));
    if (req.method === 'POST' && path === '/press') {
      const form = await readForm(req);
      const ts = form.get('ts') ?? '';
      const channel = form.get('channel') ?? '';
      const entry = opts.board.entries().find((e) => e.message.ts === ts && e.message.channel === channel);
      if (!entry) return back(res, `no message ${ts} in ${channel}`);
      return back(res, await opts.press(entry.n, form.get('actionId') ?? '', form.get('value') ?? undefined));
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}/`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
