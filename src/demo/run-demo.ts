import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { Agent } from '../agent.js';
import { closeOnSignals } from '../cli/shutdown.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../log.js';
import { demoRulesDir } from './demo-rules.js';
import { startHelixLog, type HelixLog } from './helix-log.js';
import { startHelixProcess, type HelixProcess } from './helix-process.js';
import { startHelixSim } from './helix-sim.js';
import { productionLogSource } from './shipped-config.js';
import { startHelixTasks, type HelixTasks } from './helix-tasks.js';
import { startSlackEmulator } from './slack-emulator.js';
import { processTitle, remediationPhase } from './remediation-phase.js';
import { describeCall, say } from './say.js';
import { startSmtpSink } from './smtp-sink.js';

/** Every demo run starts from a clean slate: its own schema and Redis prefix, emptied first. */
async function resetDemoState(
  databaseUrl: string,
  redisUrl: string,
  schema: string,
  prefix: string,
): Promise<void> {
  const db = new pg.Client({ connectionString: databaseUrl });
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await db.connect().then(() => db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    await redis.connect();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  } catch {
    // The agent's own startup checks report an unreachable server with the fix; no need to here.
  } finally {
    await db.end().catch(() => undefined);
    redis.disconnect();
  }
}

/**
 * `vigil demo`: a HELIX simulator, a Slack emulator and an SMTP sink on this machine, the agent
 * watching the simulator, and a timer that breaks and heals the API so a real alert and its
 * resolution arrive within a minute. In the first cycle a real HELIX API process is killed and
 * Vigil restarts it (restart-service).
 */
export async function runDemo(opts: {
  cycles?: number;
  port: number;
  namespace: string;
  apiPorts: { from: number; to: number };
}): Promise<void> {
  // The demo empties its namespace at start: never let that be a real schema or key prefix.
  if (!/^[a-z_][a-z0-9_]*demo[a-z0-9_]*$/.test(opts.namespace)) {
    throw new ConfigError([
      `--namespace ${opts.namespace}: must be a lower-case identifier containing "demo" (it is emptied at start)`,
    ]);
  }
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const [helix, slack, smtp] = await Promise.all([startHelixSim(), startSlackEmulator(), startSmtpSink()]);
  // HELIX's production.log and PID file: the simulated API runs in this process, so its pid is ours.
  const home = await mkdtemp(join(tmpdir(), 'vigil-demo-helix-'));
  let helixLog: HelixLog | undefined;
  let api: HelixProcess | undefined;
  const stopStandIns = () =>
    Promise.allSettled([helix.close(), slack.close(), smtp.close(), helixLog?.close(), api?.stop()])
      .then(() => rm(home, { recursive: true, force: true }))
      .then(() => undefined);
  let config: ReturnType<typeof loadConfig>;
  let agent: Agent;
  let tasks: HelixTasks | undefined;
  try {
    const pidfile = join(home, 'helix.pid');
    await writeFile(pidfile, `${process.pid}\n`);
    helixLog = await startHelixLog(join(home, 'production.log'));
    api = await startHelixProcess(join(home, 'api'), opts.apiPorts);
    config = loadConfig({
      env: {},
      object: {
        agentId: 'demo',
        database: { url: databaseUrl, schema: opts.namespace },
        redis: { url: redisUrl, prefix: opts.namespace },
        http: { host: '127.0.0.1', port: opts.port },
        // HELIX's tasks table lives in the demo's schema, so the outbox does too.
        sources: [
          { kind: 'probes' },
          { kind: 'host-probes' },
          { kind: 'pg-outbox', name: 'helix-db' },
          productionLogSource(helixLog.path),
        ],
        stateDir: join(home, 'state'),
        slack: { token: 'xoxb-demo', apiUrl: slack.url, channel: 'C0HELIXOPS' },
        email: { smtpUrl: smtp.url, from: 'vigil@helix.local', to: ['oncall@helix.local'] },
        remediation: { targets: { 'helix-api': api.target } },
        rules: {
          dir: await demoRulesDir(join(home, 'rules')),
          vars: {
            HELIX_API_URL: helix.url,
            HELIX_API_PORT: new URL(helix.url).port,
            HELIX_HEALTH_EVERY: '1s',
            HELIX_HEALTH_TIMEOUT: '800ms',
            HELIX_PIDFILE: pidfile,
            HELIX_DATABASE_URL: databaseUrl,
            HELIX_TASKS_TABLE: `${opts.namespace}.tasks`,
            HELIX_PROCESS_URL: `http://127.0.0.1:${await api.port()}`,
            HELIX_PROCESS_ENV: api.envFile,
          },
        },
        log: {
          level: process.env.VIGIL_LOG_LEVEL === undefined ? 'warn' : (process.env.VIGIL_LOG_LEVEL as 'info'),
        },
      },
    });
    await resetDemoState(databaseUrl, redisUrl, opts.namespace, opts.namespace);
    tasks = await startHelixTasks(databaseUrl, opts.namespace);
    agent = new Agent(config, { log: createLogger({ level: config.log.level }) });
    await agent.start();
    // This machine's own load is real, but it is not one of the demo's scenarios.
    await agent.thresholds.set('cpu-high', 'value', 100, 'vigil demo', cpuReason);
  } catch (err) {
    await tasks?.close();
    await stopStandIns();
    throw err;
  }
  const orchestrator = tasks;
  const helixApi = api;
  // Once, whoever asks first: a signal, or the end (or failure) of the scenarios.
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await agent.close();
      await orchestrator.close();
      await stopStandIns();
    })());
  closeOnSignals(stop, config.shutdown.deadline, agent.log);

  say(`HELIX simulator   ${helix.url}/api/v1/health (probed every second)`);
  say(`Slack emulator    ${slack.url}  →  channel C0HELIXOPS`);
  say(`SMTP sink         ${smtp.url}  →  oncall@helix.local`);
  say(
    `HELIX API process ${helixApi.dir}: node helix-api.mjs on port ${await helixApi.port()} (API_PORT in .env), pid ${(await helixApi.pids()).join(', ')}`,
  );
  say(`Vigil agent       ${agent.httpUrl}/healthz  ·  ${agent.httpUrl}/metrics`);
  say(`HELIX tasks       ${opts.namespace}.tasks, a trigger raising each status change into the outbox`);
  say(`HELIX log         ${helixLog.path} (the orchestrator logs its poll every 5 s)`);
  say('Rule api-health: 3 consecutive failed health checks → critical alert; ack SLA 5m.');
  say('Rule task-failures: 3 tasks failing in a row → high alert; the next task that succeeds resolves it.');
  say(
    'Rule task-failure-rate: > 5 % of at least 20 tasks failed over 10m → high alert (the demo gets there from cycle 5).',
  );
  say(
    `Rule api-process-health: 3 failed checks of the API process → critical alert, then remediate: restart-service on helix-api (ports ${opts.apiPorts.from}–${opts.apiPorts.to}); the demo kills it once, in cycle 1.`,
  );
  say(
    `The other HELIX rules watch too (${agent.rules.rules.length} in all: latency, heartbeat, ERROR bursts, zombies, …); cpu-high is tuned to 100 % here: ${cpuReason}.`,
  );
  say('Ctrl-C to stop.');
  slack.onCall((call) => {
    const line = describeCall(call);
    if (line) say(`📣 ${line}`);
  });
  smtp.onMail((mail) => say(`✉️  Email to ${mail.to.join(', ')}: ${mail.subject}`));

  // A scenario that goes wrong still stops everything: the API process is detached, it would stay.
  try {
    for (let cycle = 1; opts.cycles === undefined || cycle <= opts.cycles; cycle++) {
      await breakApi({ helix, slack, smtp }, cycle);
      await failTasks(orchestrator, { helix, slack, smtp }, cycle);
      if (cycle === 1) {
        await remediationPhase(helixApi, slack, { url: databaseUrl, schema: opts.namespace }, cycle);
        await smtp.waitFor((m) => m.subject.includes('RESOLVED') && m.subject.includes(processTitle), {
          timeoutMs: 60_000,
        });
      }
    }
    say('demo finished');
  } finally {
    await stop();
  }
}

const apiTitle = 'HELIX API health check fails';
const cpuReason = "this shared machine's own CPU load is not one of the demo's scenarios";

type StandIns = {
  helix: Awaited<ReturnType<typeof startHelixSim>>;
  slack: Awaited<ReturnType<typeof startSlackEmulator>>;
  smtp: Awaited<ReturnType<typeof startSmtpSink>>;
};

/** The HELIX API stops answering healthy until the alert is out, then heals until it is resolved. */
async function breakApi({ helix, slack, smtp }: StandIns, cycle: number): Promise<void> {
  await helix.waitForRequests(helix.healthRequests.length + 3);
  say(`💥 cycle ${cycle}: HELIX API turns unhealthy (503)`);
  const posts = slack.calls.length;
  helix.setHealthy(false);
  await slack.waitFor(
    (c) =>
      c.method === 'chat.postMessage' &&
      c.status === 200 &&
      slack.calls.indexOf(c) >= posts &&
      String(c.args.text ?? '').includes(apiTitle),
    { timeoutMs: 60_000 },
  );
  await helix.waitForRequests(helix.healthRequests.length + 2);
  say(`🩹 cycle ${cycle}: HELIX API is healthy again`);
  const updates = slack.calls.length;
  helix.setHealthy(true);
  await slack.waitFor(
    (c) =>
      c.method === 'chat.update' &&
      c.status === 200 &&
      slack.calls.indexOf(c) >= updates &&
      String(c.args.text ?? '').includes(apiTitle),
    { timeoutMs: 60_000 },
  );
  await smtp.waitFor(
    (m) =>
      m.subject.includes('RESOLVED') &&
      smtp.messages.filter((x) => x.subject.includes('RESOLVED') && x.subject.includes(apiTitle)).length >=
        cycle,
    { timeoutMs: 60_000 },
  );
}

/** Three tasks fail in a row until the alert is out; one succeeds until it is resolved. */
async function failTasks(orchestrator: HelixTasks, { slack, smtp }: StandIns, cycle: number): Promise<void> {
  say(`💥 cycle ${cycle}: three HELIX tasks fail in a row`);
  const taskPosts = slack.calls.length;
  await orchestrator.fail(3);
  await slack.waitFor(
    (c) =>
      c.method === 'chat.postMessage' &&
      c.status === 200 &&
      slack.calls.indexOf(c) >= taskPosts &&
      String(c.args.text ?? '').includes('tasks keep failing'),
    { timeoutMs: 60_000 },
  );
  say(`🩹 cycle ${cycle}: a HELIX task succeeds`);
  const taskUpdates = slack.calls.length;
  await orchestrator.succeed();
  await slack.waitFor(
    (c) =>
      c.method === 'chat.update' &&
      c.status === 200 &&
      slack.calls.indexOf(c) >= taskUpdates &&
      String(c.args.text ?? '').includes('tasks keep failing'),
    { timeoutMs: 60_000 },
  );
  await smtp.waitFor(
    (m) =>
      m.subject.includes('RESOLVED') &&
      smtp.messages.filter((x) => x.subject.includes('RESOLVED') && x.subject.includes('tasks keep failing'))
        .length >= cycle,
    { timeoutMs: 60_000 },
  );
}
