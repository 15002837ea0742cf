import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * Slack's side of Socket Mode: `apps.connections.open` hands out a one-time ticket URL; a client that
 * connects gets `hello`, then envelopes it must acknowledge with `{envelope_id}`.
 */
export class SlackSocketServer {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Set<string>();
  private readonly open: WebSocket[] = [];
  private readonly acks = new Map<string, (ack: unknown) => void>();
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  constructor(private readonly wsBase: () => string) {}

  /** `apps.connections.open` (the emulator has already refused all but app-level tokens). */
  connectionsOpen(): Record<string, unknown> {
    const ticket = randomBytes(8).toString('hex');
    this.tickets.add(ticket);
    return { ok: true, url: `${this.wsBase()}socket-mode?ticket=${ticket}` };
  }

  get connections(): number {
    return this.open.length;
  }

  /** Takes an HTTP upgrade on /socket-mode with a ticket not used before; refuses anything else. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'ws://emulator');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (url.pathname !== '/socket-mode' || !this.tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    this.open.push(ws);
    ws.on('message', (data: Buffer) => {
      let message: { envelope_id?: unknown };
      try {
        message = JSON.parse(data.toString('utf8')) as { envelope_id?: unknown };
      } catch {
        return;
      }
      const id = typeof message.envelope_id === 'string' ? message.envelope_id : '';
      this.acks.get(id)?.(message);
    });
    ws.on('close', () => {
      const i = this.open.indexOf(ws);
      if (i >= 0) this.open.splice(i, 1);
    });
    ws.on('error', () => ws.terminate());
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.open.length,
        debug_info: { host: 'vigil-emulator', approximate_connection_time: 18_060 },
        connection_info: { app_id: 'A000' },
      }),
    );
    for (const wake of this.waiting.splice(0)) wake();
  }

  /** Sends an interactive envelope on the newest connection (waiting for one); resolves with its ack. */
  async send(payload: unknown, timeoutMs = 10_000): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    while (this.open.length === 0) {
      if (this.closed) throw new Error('Slack emulator: closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('Slack emulator: no Socket Mode connection to send the press on');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting.push(() => (clearTimeout(timer), resolve()));
      });
    }
    const ws = this.open[this.open.length - 1] as WebSocket;
    const envelopeId = randomUUID();
    const acked = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.acks.delete(envelopeId);
          reject(new Error(`Slack emulator: envelope ${envelopeId} not acknowledged within ${timeoutMs} ms`));
        },
        Math.max(0, deadline - Date.now()),
      );
      this.acks.set(envelopeId, (ack) => {
        clearTimeout(timer);
        this.acks.delete(envelopeId);
        resolve(ack);
      });
    });
    ws.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type: 'interactive',
        payload,
        accepts_response_payload: false,
      }),
    );
    return acked;
  }

  /** Drops every connection without a close handshake, as a Slack pod going away would. */
  drop(): void {
    for (const ws of this.open.splice(0)) ws.terminate();
  }

  close(): Promise<void> {
    this.closed = true;
    this.drop();
    for (const wake of this.waiting.splice(0)) wake();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}
