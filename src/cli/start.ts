import { Agent } from '../agent.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { closeOnSignals } from './shutdown.js';

export async function runStart(opts: { config?: string; migrate: boolean }): Promise<void> {
  const config = loadConfig(opts.config === undefined ? {} : { file: opts.config });
  const log = createLogger({ level: config.log.level });
  const agent = new Agent(config, { log, migrate: opts.migrate });
  // Before start, not after: a signal that lands between "agent started" and the handler would
  // otherwise kill the process the default way, with no shutdown at all. One during start stops it.
  closeOnSignals(() => agent.close(), config.shutdown.deadline, log);
  await agent.start();
  // The rules folder is watched; SIGHUP reloads too, for where watching cannot see a change (a
  // network filesystem, a folder replaced whole). What a reload finds is logged by the agent.
  process.on('SIGHUP', () => void agent.reloadRules('SIGHUP').catch(() => undefined));
}
