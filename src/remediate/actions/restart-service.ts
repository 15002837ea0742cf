import { resolve } from 'node:path';
import { formatDuration } from '../../config/duration.js';
import { readEnvPort } from '../../config/env-file.js';
import type { RemediationAction } from '../action.js';
import { setEnvValue } from '../service/env-file.js';
import { isListening, pickPort } from '../service/free-port.js';
import { waitHealthy } from '../service/health-wait.js';
import { restartServiceSchema, type RestartServiceSpec } from '../service/spec.js';
import { startService } from '../service/start.js';
import { stopService } from '../service/stop-service.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const errText = (err: unknown) =>
  (err as NodeJS.ErrnoException).code ?? (err as Error).message ?? String(err);

/**
 * The seed's restart SOP (find-port.sh, then the SSH-safe emergency recovery) as code: refuse when
 * SSH is not listening; stop the service's exact processes (SIGTERM, grace, SIGKILL); keep its port
 * if free, else pick a free one and write it to .env atomically; start it detached; wait for health.
 * Only the health check stops at the run's signal: once SIGTERM is sent, stopping, the port, .env
 * and the start are finished (bounded by the grace period), so an abort never leaves a stopped
 * service behind without having tried to start it.
 */
export const restartService: RemediationAction<RestartServiceSpec> = {
  name: 'restart-service',
  schema: restartServiceSchema,

  describe(spec) {
    const found = spec.pidfile ? `pidfile ${spec.pidfile}, else ` : '';
    const guard = spec.sshPort === false ? '' : `if port ${spec.sshPort} (SSH) is listening: `;
    return (
      `${guard}stop ${JSON.stringify(spec.match ?? spec.command)} in ${spec.cwd} (${found}exact command line; ` +
      `SIGTERM, SIGKILL after ${formatDuration(spec.grace)}), start ${JSON.stringify(spec.command)} on ` +
      `${spec.portKey} from ${spec.envFile} or a free port in ${spec.ports.from}–${spec.ports.to}, ` +
      `expect ${spec.health.path} healthy within ${formatDuration(spec.health.within)}`
    );
  },

  async run(spec, ctx) {
    const started = performance.now();
    if (spec.sshPort === false) await ctx.step('ssh-guard', 'skipped', 'sshPort: false, no SSH check');
    else if (await isListening(spec.sshPort))
      await ctx.step('ssh-guard', 'ok', `port ${spec.sshPort} is listening`);
    else {
      const why = `nothing listens on port ${spec.sshPort} (SSH): nothing touched, a person must look (a host with no SSH server: set sshPort: false on the target)`;
      await ctx.step('ssh-guard', 'failed', why);
      return { outcome: 'refused', summary: `refused to restart ${ctx.target}: ${why}` };
    }

    const stopped = await stopService(spec, ctx);
    if ('outcome' in stopped) return stopped;

    const envFile = resolve(spec.cwd, spec.envFile);
    const before = await readEnvPort(envFile, spec.portKey);
    const current = 'port' in before ? before.port : undefined;
    const pick = await pickPort(current, spec.ports);
    if (pick.port === undefined) {
      await ctx.step('pick-port', 'failed', pick.why);
      return { outcome: 'failed', summary: `could not restart ${ctx.target}: ${pick.why}` };
    }
    const moved = pick.kept ? '' : ` (${'problem' in before ? before.problem : pick.why})`;
    await ctx.step(
      'pick-port',
      'ok',
      pick.kept
        ? `keeping ${pick.port}, free`
        : `${pick.port}, the first free in ${spec.ports.from}–${spec.ports.to}${moved}`,
    );

    if (pick.kept)
      await ctx.step('update-env', 'skipped', `${spec.portKey} in ${envFile} is already ${pick.port}`);
    else {
      try {
        const { created } = await setEnvValue(envFile, spec.portKey, String(pick.port));
        await ctx.step(
          'update-env',
          'ok',
          `${spec.portKey}=${pick.port} in ${envFile}${created ? ' (new file)' : ''}`,
        );
      } catch (err) {
        await ctx.step('update-env', 'failed', `${envFile}: ${errText(err)}`);
        return { outcome: 'failed', summary: `could not restart ${ctx.target}: ${envFile}: ${errText(err)}` };
      }
    }

    const service = await startService(spec, pick.port);
    if ('error' in service) {
      await ctx.step('start', 'failed', service.error);
      return { outcome: 'failed', summary: `could not restart ${ctx.target}: ${service.error}` };
    }
    await ctx.step(
      'start',
      'ok',
      `pid ${service.pid}: ${spec.command.join(' ')}${spec.log ? ` >> ${spec.log}` : ''}`,
    );

    const url = `http://${hostForUrl(spec.health.host)}:${pick.port}${spec.health.path}`;
    const health = await waitHealthy({
      url,
      expectStatus: spec.health.expectStatus,
      withinMs: spec.health.within,
      signal: ctx.signal,
      hopeless: () => (service.endedCleanly() ? undefined : service.ended()),
    });
    if (!health.healthy) {
      const why = `${url}: ${health.why}`;
      await ctx.step(
        'verify-health',
        'failed',
        `${why} (${health.attempts} attempts in ${seconds(health.afterMs)})`,
      );
      return {
        outcome: 'failed',
        summary: `restarted ${ctx.target} on port ${pick.port} (pid ${service.pid}) but ${why}`,
      };
    }
    await ctx.step('verify-health', 'ok', `${url} healthy after ${seconds(health.afterMs)}`);
    ctx.log.info({ target: ctx.target, tookMs: performance.now() - started }, 'restart-service done');
    return {
      outcome: 'done',
      summary: `restarted ${ctx.target} (${stopped.stopped}) on port ${pick.port}${moved}; healthy after ${seconds(health.afterMs)}`,
    };
  },
};

/** An IPv6 literal goes in brackets in a URL. */
const hostForUrl = (host: string) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);
