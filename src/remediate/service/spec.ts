import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { duration } from '../../config/duration.js';
import { envKeyPattern } from '../../config/env-file.js';
import { integer } from '../../config/fields.js';

const port = integer(1, 65_535);
const arg = z.string().refine((s) => !s.includes('\0'), 'an argument cannot hold a NUL character');
const argv = z
  .array(arg)
  .min(1, 'the program, then its arguments')
  .refine((a) => a[0] !== '', 'the program is empty');
const envName = z.string().regex(envKeyPattern, 'an environment variable name (letters, digits, "_")');
/** Files of the service: relative to its cwd (or absolute). */
const file = z.string().min(1);

/**
 * vigil.yaml `remediation.targets.<name>` with `action: restart-service`: the seed's restart SOP
 * (find-port.sh, SSH-safe emergency recovery) for one service.
 */
export const restartServiceSchema = z
  .object({
    action: z.literal('restart-service'),
    /** The service's working directory: where it is started, and how its processes are told apart. */
    cwd: z.string().refine(isAbsolute, 'an absolute directory'),
    /** Program and arguments, started without a shell, detached, stdin closed. */
    command: argv,
    /**
     * The exact argv of the running service, when it differs from `command` (a script whose
     * interpreter shows in /proc, e.g. ["/usr/bin/python3", "start_system.py"]). Default: `command`.
     */
    match: argv.optional(),
    /** Written by the service: when it names a live process of the service, that is the one stopped. */
    pidfile: file.optional(),
    /** stdout and stderr are appended here; without it they go nowhere. */
    log: file.optional(),
    /** The dotenv file holding the service's port, and the key. */
    envFile: file.default('.env'),
    portKey: envName.default('API_PORT'),
    /** Where a new port is picked when the one in envFile is taken (the seed's find-port.sh range). */
    ports: z
      .object({ from: port, to: port })
      .strict()
      .refine((r) => r.from <= r.to, { message: '`from` must not be above `to`', path: ['to'] })
      .default({ from: 8000, to: 8099 }),
    /** After the start: GET http://host:<port><path> until a status of expectStatus, or `within` ends. */
    health: z
      .object({
        path: z.string().startsWith('/', 'a path starting with "/"').default('/api/v1/health'),
        host: z.string().min(1).default('127.0.0.1'),
        within: duration.default(30_000),
        expectStatus: z.array(z.number().int().min(100).max(599)).min(1).default([200]),
      })
      .strict()
      .default({ path: '/api/v1/health', host: '127.0.0.1', within: 30_000, expectStatus: [200] }),
    /** SIGTERM, then this long to exit before SIGKILL. */
    grace: duration.default(10_000),
    /**
     * Nothing listening on this port (SSH) → refuse and touch nothing: a restart that goes wrong on a
     * host nobody can log into needs a person first (the seed's SSH-safe rule). `false`: no check.
     */
    sshPort: z.union([port, z.literal(false)]).default(22),
    /** The agent's environment variables the service gets (plus portKey = the chosen port). */
    env: z.array(envName).default(['PATH', 'HOME', 'LANG']),
  })
  .strict();

export type RestartServiceSpec = z.output<typeof restartServiceSchema>;
