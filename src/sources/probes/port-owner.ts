import { readdir, readFile, readlink } from 'node:fs/promises';
import { readCmdline } from './procfs.js';

/** TCP state LISTEN in /proc/net/tcp{,6}. */
const LISTEN = '0A';

/**
 * Inodes of the sockets listening on `port` (any address, IPv4 or IPv6), from this network
 * namespace's /proc/net/tcp and tcp6: `lsof -i :<port>` without lsof.
 */
export async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(table, 'utf8');
    } catch {
      continue; // no IPv6 on this host
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const local = f[1];
      if (!local || f[3] !== LISTEN) continue;
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && f[9] && f[9] !== '0')
        inodes.add(f[9]);
    }
  }
  return inodes;
}

/** Whether a process holds one of these sockets; undefined when its fds cannot be read (another user's). */
async function holds(pid: number, inodes: ReadonlySet<string>): Promise<boolean | undefined> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ESRCH' ? false : undefined;
  }
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m && inodes.has(m[1] as string)) return true;
  }
  return false;
}

export interface PortHolders {
  /** Processes seen holding the listening socket, with their command lines. */
  pids: Array<{ pid: number; cmdline: string[] }>;
  /** Processes whose sockets this agent may not look at (run it as the service's user, or root). */
  hidden: number;
}

/** Every process holding one of these sockets (a listening socket may be shared by workers). */
export async function holdersOf(inodes: ReadonlySet<string>): Promise<PortHolders> {
  const all = (await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map(Number);
  const out: PortHolders = { pids: [], hidden: 0 };
  // In slices, so a host with thousands of processes does not run the agent out of file handles.
  for (let i = 0; i < all.length; i += 64) {
    await Promise.all(
      all.slice(i, i + 64).map(async (pid) => {
        const held = await holds(pid, inodes);
        if (held === undefined) out.hidden++;
        else if (held) out.pids.push({ pid, cmdline: (await readCmdline(pid)) ?? [] });
      }),
    );
  }
  out.pids.sort((a, b) => a.pid - b.pid);
  return out;
}

/**
 * Who listens on `port`, judged against the service's own pids: `undefined` when nothing listens
 * or one of `own` holds it; otherwise why the port is taken (the foreign holders, or that the
 * holder is not visible to this agent).
 */
export async function foreignHolder(port: number, own: readonly number[]): Promise<string | undefined> {
  const inodes = await listeningInodes(port);
  if (inodes.size === 0) return undefined;
  for (const pid of own) if (await holds(pid, inodes)) return undefined;
  const { pids, hidden } = await holdersOf(inodes);
  if (pids.length > 0)
    return `port ${port} is held by ${pids.map((p) => `pid ${p.pid} (${p.cmdline.join(' ').slice(0, 120)})`).join(', ')}`;
  return `port ${port} is held by a process this agent cannot inspect (${hidden} not readable: run the agent as the service's user or root)`;
}
