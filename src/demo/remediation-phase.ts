import pg from 'pg';
import { VigilError } from '../errors.js';
import type { HelixProcess } from './helix-process.js';
import { say, unslack } from './say.js';
import type { SlackCall, SlackEmulator } from './slack-emulator.js';

export const processTitle = 'HELIX API process not answering';

const ended = /restart-service on helix-api \(run \d+\) (succeeded|failed|refused|skipped|interrupted)/;

/**
 * The HELIX API process is SIGKILLed and the demo takes its port: api-process-health fires, its
 * restart-service run starts the API on a free port (API_PORT in .env rewritten), verifies health
 * and says so in the incident's thread; the incident resolves.
 */
export async function remediationPhase(
  api: HelixProcess,
  slack: SlackEmulator,
  db: { url: string; schema: string },
  cycle: number,
): Promise<void> {
  const oldPort = await api.port();
  if (oldPort === undefined) throw new VigilError('demo_api_port', `${api.envFile}: no API_PORT`);
  const from = slack.calls.length;
  const after = (c: SlackCall) => slack.calls.indexOf(c) >= from && c.status === 200;
  const killed = await api.kill();
  await api.hold(oldPort);
  say(
    `💥 cycle ${cycle}: the HELIX API process (pid ${killed.join(', ') || '?'}) is killed with SIGKILL, ` +
      `and another process (this demo) now listens on its port ${oldPort}`,
  );
  const alert = await slack.waitFor(
    (c) => after(c) && c.method === 'chat.postMessage' && String(c.args.text ?? '').includes(processTitle),
    { timeoutMs: 60_000 },
  );
  say('🔧 Vigil runs restart-service on target helix-api (rule api-process-health, remediate)');
  const note = await slack.waitFor(
    (c) =>
      after(c) &&
      c.method === 'chat.postMessage' &&
      c.args.thread_ts === (alert.response as { ts?: string } | undefined)?.ts &&
      ended.test(String(c.args.text ?? '')),
    { timeoutMs: 60_000 },
  );
  say("🧵 The incident's Slack thread says:");
  for (const line of unslack(String(note.args.text)).split('\n')) say(`     ${line}`);
  const run = await lastRun(db);
  if (run.state !== 'succeeded')
    throw new VigilError(
      'demo_remediation',
      `restart-service run ${run.id} ${run.state}: see the thread note above`,
    );
  say(
    `🗄️  Recorded: run ${run.id} ${run.state}, verified=${run.verified}, ${run.steps} steps ` +
      `(vigil_remediation_runs, vigil_remediation_steps; vigil incidents show)`,
  );
  const newPort = await api.port();
  const healthy = newPort !== undefined && (await answers(newPort));
  say(
    healthy
      ? `🩹 cycle ${cycle}: the HELIX API answers on port ${newPort} (pid ${(await api.pids()).join(', ')}); ` +
          `.env has API_PORT=${newPort}; port ${oldPort} is still held by the other process`
      : `❗ cycle ${cycle}: the HELIX API does not answer (.env API_PORT=${newPort ?? 'none'})`,
  );
  await slack.waitFor(
    (c) => after(c) && c.method === 'chat.update' && String(c.args.text ?? '').includes(processTitle),
    { timeoutMs: 60_000 },
  );
}

async function lastRun(db: { url: string; schema: string }) {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const runs = `${pg.escapeIdentifier(db.schema)}.vigil_remediation_runs`;
    const steps = `${pg.escapeIdentifier(db.schema)}.vigil_remediation_steps`;
    const { rows } = await client.query<{
      id: string;
      state: string;
      verified: boolean | null;
      steps: number;
    }>(
      `SELECT r.id, r.state, r.verified, (SELECT count(*)::int FROM ${steps} s WHERE s.run_id = r.id) AS steps
       FROM ${runs} r WHERE r.target = 'helix-api' ORDER BY r.id DESC LIMIT 1`,
    );
    const run = rows[0];
    if (!run) throw new VigilError('demo_no_run', 'no restart-service run was recorded');
    return run;
  } finally {
    await client.end();
  }
}

async function answers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/health`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
