import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SlackCall } from '../../src/demo/slack-emulator.js';
import { findByCmdline } from '../../src/sources/probes/procfs.js';
import { createTestEnv, type TestEnv } from './env.js';
import { untilGone } from './processes.js';
import { until } from './quiet.js';
import { remediationConfig, rulesDir, runsOf, stepsOf } from './remediation-world.js';
import { helixApi, Processes, startedPid, unusedPort } from './restart-service.js';

export const signingSecret = 'test-signing-secret-0123456789';

/** The api-health rule, fast, following the API's port in .env, remediated by restart-service. */
const apiHealthRule = (port: number, envFile: string, entry: string) => `
id: api-health
title: HELIX API health check fails
category: availability
severity: critical
# Far beyond any test: an escalation can only come from the remediation asking for it.
ackSla: 1h
probe:
  kind: http
  name: helix-api-health
  url: http://127.0.0.1:${port}/api/v1/health
  # On a busy machine an agent starting up takes a healthy API's answer late: with timeouts of
  # 200ms, then 900ms, that alone opened incidents. Slow probes keep the outages the tests' own.
  every: 2s
  timeout: 1500ms
  expectStatus: [200]
  expectJson: { status: healthy }
  portFromEnv: { file: ${envFile}, key: API_PORT }
  labels: { service: helix-api }
groupBy: [service]
condition: { kind: consecutive, count: 2, resolveAfter: 1 }
remediate:
  - target: helix-api
    cooldown: 0s
    verify: { after: 0s, within: 5s }
    # Only the budget may stop a run in these tests, never the switch-off after recurrences.
    recurrence: { within: 10m, disableAfter: 50 }
${entry}`;

export interface RestartWorldOptions {
  /** This test's own ports: the API starts on `from`, restart-service picks among them. */
  range: { from: number; to: number };
  /** More lines of the rule's remediate entry (4-space indented): budget, approval. */
  entry?: string;
  /** false: nothing listens on the configured SSH port. */
  ssh?: boolean;
}

/**
 * A HELIX-like host for an agent: a directory with .env, the stand-in API running from it on the
 * first port of the range, an SSH stand-in, and an agent whose api-health rule restarts the API.
 */
export async function restartWorld(o: RestartWorldOptions) {
  const procs = new Processes();
  const dir = await mkdtemp(join(tmpdir(), 'vigil-restart-agent-'));
  const env = await createTestEnv();
  // The directory in the argv makes this test's API processes the only ones with this command line.
  const command = [process.execPath, helixApi, '--home', dir];
  const envFile = join(dir, '.env');
  const envText = `# HELIX\nDATABASE_URL=postgresql://helix_user@localhost/helix\nAPI_PORT=${o.range.from} # find-port.sh\nLOG_LEVEL=info\n`;
  await writeFile(envFile, envText);
  const rules = rulesDir({ 'api-health.yaml': apiHealthRule(o.range.from, envFile, o.entry ?? '') });
  const close = async () => {
    await env.cleanup();
    // The services the runs started are detached: their process groups, then our own children.
    for (const pid of await findByCmdline(command)) if (!kill(-pid)) kill(pid);
    for (const pid of await findByCmdline(command)) await untilGone(pid);
    await procs.killAll();
    rules.remove();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const api = await procs.start(command, dir);
    const sshPort = o.ssh === false ? await unusedPort() : await procs.listen();
    const cfg = env.config({
      rules: { dir: rules.dir, vars: {} },
      slack: { token: 'xoxb-test', apiUrl: env.slack.url, channel: 'C0ALERTS', timeout: '2s', signingSecret },
      ...remediationConfig({
        'helix-api': {
          action: 'restart-service',
          cwd: dir,
          command,
          ports: o.range,
          sshPort,
          health: { path: '/api/v1/health', within: '5s' },
          grace: '1s',
        },
      }),
    });
    const agent = env.agent(cfg);
    await agent.start();
    env.slack.interactivity({ requestUrl: `${agent.httpUrl}/slack/interactions`, signingSecret });
    // A test's outage starts once the agent watches a healthy API: a probe slow while the agent
    // starts up would otherwise open an incident of its own.
    const ok = { probe: 'helix-api-health', outcome: 'ok' };
    await until(
      'the agent saw the API healthy',
      () => agent.metrics.value('vigil_probe_runs_total', ok) >= 2,
      30_000,
    );
    const early = await env.db.query(
      `SELECT note, at FROM ${env.schema}.vigil_incident_transitions ORDER BY id`,
    );
    if (early.rows.length)
      throw new Error(`an incident opened before the API was killed: ${JSON.stringify(early.rows)}`);
    return { env, agent, procs, dir, command, envFile, envText, api, sshPort, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export type RestartWorld = Awaited<ReturnType<typeof restartWorld>>;

function kill(pid: number): boolean {
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false; // ESRCH: not a group leader, or gone already
  }
}

/** SIGKILLs a process (or a started service's whole group) and waits until it is gone. */
export async function killHard(pid: number, group = false): Promise<void> {
  kill(group ? -pid : pid);
  await untilGone(pid);
}

/** The API processes running now (this test's command line only). */
export const apiPids = (w: RestartWorld) => findByCmdline(w.command);

/** The pids the runs' start steps started, in run order. */
export async function startedPids(w: RestartWorld): Promise<number[]> {
  const pids: number[] = [];
  for (const run of await runsOf(w.env)) {
    const pid = startedPid((await stepsOf(w.env, run.id)) as Parameters<typeof startedPid>[0]);
    if (pid !== undefined) pids.push(pid);
  }
  return pids;
}

export const envBytes = (w: RestartWorld) => readFile(w.envFile);

export async function incidents(env: TestEnv) {
  const { rows } = await env.db.query<{ id: string; state: string }>(
    `SELECT id, state FROM ${env.schema}.vigil_incidents ORDER BY id`,
  );
  return rows;
}

/** An incident's transitions in order, as "kind" (the escalation and remediation notes among them). */
export async function transitionKinds(env: TestEnv, incidentId: string): Promise<string[]> {
  const { rows } = await env.db.query<{ kind: string }>(
    `SELECT kind FROM ${env.schema}.vigil_incident_transitions WHERE incident_id = $1 ORDER BY seq`,
    [incidentId],
  );
  return rows.map((r) => r.kind);
}

export async function health(port: number): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/health`, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: await res.json() };
}

/**
 * Another process, ready before the API dies, that takes `port` the moment it is free (and then
 * only holds it, answering nothing): the restart must go elsewhere.
 */
export async function portThief(
  procs: Processes,
  port: number,
): Promise<{ child: ChildProcess; holding: Promise<void> }> {
  const code = `const net = require('net');
const grab = () => net.createServer().once('error', () => setTimeout(grab, 5))
  .listen(${port}, '127.0.0.1', () => console.log('holding'));
grab(); console.log('ready');`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.children.push(child);
  let out = '';
  const seen = (line: string) =>
    new Promise<void>((resolve, reject) => {
      const look = () => out.includes(line) && resolve();
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        look();
      });
      child.once('exit', (c, s) => reject(new Error(`the port thief ended (${c ?? s}) before "${line}"`)));
      look();
    });
  await seen('ready');
  return { child, holding: seen('holding') };
}

export const tsOf = (call: SlackCall) => String((call.response as { ts?: string } | undefined)?.ts ?? '');
