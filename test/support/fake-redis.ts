import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for a Redis server configured the way Vigil must refuse: it speaks just enough RESP
 * (INFO, CONFIG GET, CLIENT, PING) to answer the startup check, reporting the given eviction policy.
 * A real Redis cannot be reconfigured for one test: the other tests share it.
 */
export async function startFakeRedis(policy: string): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (data) => {
      for (const command of parseCommands(data.toString('utf8'))) socket.write(reply(command, policy));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function parseCommands(text: string): string[][] {
  const commands: string[][] = [];
  const lines = text.split('\r\n');
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i];
    if (!head?.startsWith('*')) continue;
    const argc = Number(head.slice(1));
    const args: string[] = [];
    for (let a = 0; a < argc; a++) {
      args.push(lines[i + 2] ?? '');
      i += 2;
    }
    commands.push(args);
  }
  return commands;
}

function bulk(s: string): string {
  return `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
}

function reply(command: string[], policy: string): string {
  const name = command[0]?.toUpperCase();
  if (name === 'INFO') return bulk('# Server\r\nredis_version:7.0.15\r\nloading:0\r\n');
  if (name === 'CONFIG') return `*2\r\n${bulk('maxmemory-policy')}${bulk(policy)}`;
  if (name === 'PING') return '+PONG\r\n';
  return '+OK\r\n';
}
