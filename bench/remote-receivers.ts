import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hrNow, waitForRecord } from '../src/demo/records.js';
import type { SlackRateLimit } from '../src/demo/slack-emulator.js';
import type { FromChild, MailRecord, SlackRecord, ToChild } from './receivers-protocol.js';

/** Child clock minus parent clock, from the ping/pong with the shortest round trip. */
export interface ClockSample {
  offsetMs: number;
  rttMs: number;
}

/** Offsets beyond this are subtracted from every stamp the child reports. */
export const CLOCK_CORRECTION_THRESHOLD_MS = 0.5;

/** The Slack emulator and SMTP sink in their own process (bench/receivers.ts), seen from the bench. */
export interface RemoteReceivers {
  pid: number;
  slackUrl: string;
  smtpUrl: string | undefined;
  /** Measured right after start; `correctionMs` (0 or offsetMs) is subtracted from child stamps. */
  clock: ClockSample & { correctionMs: number };
  waitForSlack(predicate: (call: SlackRecord) => boolean, timeoutMs?: number): Promise<SlackRecord>;
  waitForMail(predicate: (mail: MailRecord) => boolean, timeoutMs?: number): Promise<MailRecord>;
  /** Calls `listener` on every Slack call from now on (a burst follows thousands at once); unsubscribes. */
  onSlack(listener: (call: SlackRecord) => void): () => void;
  /** Measures the offset again (e.g. at the end, to see drift); does not change the correction. */
  measureClock(): Promise<ClockSample>;
  /** Forgets every record, here and in the child. */
  reset(): Promise<void>;
  /** Asks the child to close its servers and exit; kills it if it has not exited within 5 s. */
  close(): Promise<void>;
}

const script = fileURLToPath(new URL('./receivers.ts', import.meta.url));
/** tsx's ESM loader, resolved from this repo's node_modules (package export "." → dist/loader.mjs). */
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

function whenExited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startRemoteReceivers(opts: {
  email: boolean;
  slackRateLimit?: SlackRateLimit;
}): Promise<RemoteReceivers> {
  // Always set, so a value in the bench's own environment cannot leak into an unlimited run.
  const limit = { BENCH_SLACK_RATE_LIMIT: opts.slackRateLimit ? JSON.stringify(opts.slackRateLimit) : '' };
  const child = fork(script, [], {
    execArgv: ['--import', tsxLoader],
    env: { ...process.env, BENCH_EMAIL: opts.email ? '1' : '0', ...limit },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  // Last resort if the bench exits without close() (process.exit, uncaught error): no orphan.
  const killOnExit = () => {
    if (!exited(child)) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const events = new EventEmitter();
  const slackCalls: SlackRecord[] = [];
  const mails: MailRecord[] = [];
  const pending = new Map<number, (message: FromChild) => void>();
  let nextId = 0;
  let correctionMs = 0;

  const request = (message: ToChild & { id: number }, timeoutMs = 5000): Promise<FromChild> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(message.id);
        reject(new Error(`bench receivers: no answer to ${message.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(message.id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      if (child.connected) child.send(message);
    });

  let closing: Promise<void> | undefined;
  // A send to a child that already exited; the timeouts below report it where it matters.
  child.on('error', () => undefined);
  child.on('exit', (code, signal) => {
    if (!closing) console.error(`bench receivers exited unexpectedly (${signal ?? `code ${code}`})`);
  });

  child.on('message', (message: FromChild) => {
    switch (message.type) {
      case 'slack': {
        const { type: _type, ...call } = message;
        call.hr -= correctionMs;
        slackCalls.push(call);
        events.emit('slack', call);
        break;
      }
      case 'mail': {
        const { type: _type, ...mail } = message;
        mail.hr -= correctionMs;
        mails.push(mail);
        events.emit('mail', mail);
        break;
      }
      case 'pong':
      case 'reset-done': {
        const settle = pending.get(message.id);
        pending.delete(message.id);
        settle?.(message);
        break;
      }
      case 'ready':
        events.emit('ready', message);
        break;
    }
  });

  const measureClock = async (samples = 50): Promise<ClockSample> => {
    let best: ClockSample | undefined;
    for (let i = 0; i < samples; i++) {
      const t0 = hrNow();
      const pong = await request({ type: 'ping', id: nextId++ });
      const t1 = hrNow();
      if (pong.type !== 'pong') throw new Error(`bench receivers: expected pong, got ${pong.type}`);
      const sample = { offsetMs: pong.hr - (t0 + t1) / 2, rttMs: t1 - t0 };
      if (!best || sample.rttMs < best.rttMs) best = sample;
    }
    return best as ClockSample;
  };

  const close = (): Promise<void> =>
    (closing ??= (async () => {
      if (!exited(child) && child.connected) child.send({ type: 'close' } satisfies ToChild);
      if (!(await whenExited(child, 5000))) {
        child.kill('SIGKILL');
        await whenExited(child, 5000);
      }
      process.off('exit', killOnExit);
    })());

  try {
    const ready = await new Promise<Extract<FromChild, { type: 'ready' }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('bench receivers: not ready within 30 s')), 30_000);
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new Error(`bench receivers (${script}) ${why} before it was ready`));
      };
      child.once('error', (err) => fail(`failed: ${err.message}`));
      child.once('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`})`));
      events.once('ready', (message: Extract<FromChild, { type: 'ready' }>) => {
        clearTimeout(timer);
        resolve(message);
      });
    });
    // Warm the IPC path before the samples that count.
    await measureClock(10);
    const first = await measureClock();
    correctionMs = Math.abs(first.offsetMs) > CLOCK_CORRECTION_THRESHOLD_MS ? first.offsetMs : 0;
    return {
      pid: child.pid as number,
      slackUrl: ready.slackUrl,
      smtpUrl: ready.smtpUrl,
      clock: { ...first, correctionMs },
      waitForSlack: (predicate, timeoutMs = 10_000) =>
        waitForRecord(events, 'slack', slackCalls, predicate, timeoutMs, () => {
          const seen = slackCalls.map((c) => c.method).join(', ') || 'none';
          return `Slack emulator (child process): waited for a call (${slackCalls.length} recorded: ${seen})`;
        }),
      waitForMail: (predicate, timeoutMs = 10_000) =>
        waitForRecord(events, 'mail', mails, predicate, timeoutMs, () => {
          const subjects = mails.map((m) => JSON.stringify(m.subject)).join(', ') || 'none';
          return `SMTP sink (child process): waited for a mail (${mails.length} received: ${subjects})`;
        }),
      onSlack: (listener) => {
        events.on('slack', listener);
        return () => events.off('slack', listener);
      },
      measureClock: () => measureClock(),
      reset: async () => {
        await request({ type: 'reset', id: nextId++ });
        slackCalls.length = 0;
        mails.length = 0;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
