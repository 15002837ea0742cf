import { access, constants, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import type { RemediationConfig } from './schema.js';
import { isListening } from './service/free-port.js';

/** A program as a run would start it: an absolute path, or a bare name on PATH. */
async function findProgram(program: string): Promise<boolean> {
  const candidates = isAbsolute(program)
    ? [program]
    : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, program));
  for (const file of candidates) {
    if (
      await access(file, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}

const isDirectory = (path: string) =>
  stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );

/**
 * What would make a target's runs fail or be refused on this host, found at start rather than
 * during an incident: the SSH guard's port not listening, a missing working directory or program.
 * Warnings only: the agent that runs a remediation may be another host.
 */
export async function preflight(
  config: RemediationConfig,
): Promise<Array<{ target: string; problem: string }>> {
  const out: Array<{ target: string; problem: string }> = [];
  for (const [target, spec] of Object.entries(config.targets)) {
    const s = spec as {
      action: string;
      sshPort?: number | false;
      cwd?: string;
      command?: string[];
      program?: string;
    };
    if (s.action === 'restart-service' && typeof s.sshPort === 'number' && !(await isListening(s.sshPort)))
      out.push({
        target,
        problem: `nothing listens on port ${s.sshPort} (SSH): its runs will be refused (a host with no SSH server: set sshPort: false)`,
      });
    if (s.cwd !== undefined && !(await isDirectory(s.cwd)))
      out.push({ target, problem: `cwd ${s.cwd} is not a directory on this host` });
    const program = s.command?.[0] ?? s.program;
    if (program !== undefined && !(await findProgram(program)))
      out.push({ target, problem: `program ${program} is not found (or not executable) on this host` });
  }
  return out;
}
