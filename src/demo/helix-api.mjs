// The demo's HELIX API: a real process Vigil's restart-service can find (by its exact command line
// and working directory), stop and start again. Like HELIX's FastAPI server it takes its port from
// API_PORT in its environment, else from ./.env, and answers GET /api/v1/health. Plain JavaScript
// so it starts with `node helix-api.mjs`, without the TypeScript loader the agent uses.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

function portFromDotenv() {
  try {
    return /^\s*(?:export\s+)?API_PORT\s*=\s*["']?(\d+)/m.exec(readFileSync('.env', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

const port = Number(process.env.API_PORT ?? portFromDotenv());
if (!Number.isInteger(port) || port <= 0) {
  console.error('helix-api: no API_PORT in the environment or in ./.env');
  process.exit(2);
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/api/v1/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(
      JSON.stringify({ status: 'healthy', components: { database: 'healthy', api: 'healthy' } }),
    );
  }
  res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
});

server.on('error', (err) => {
  console.error(`helix-api: cannot listen on 127.0.0.1:${port}: ${err.code ?? err.message}`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () =>
  console.log(`helix-api ${process.pid}: listening on 127.0.0.1:${port}`),
);

process.on('SIGTERM', () => {
  console.log(`helix-api ${process.pid}: SIGTERM, closing`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
