import pg from 'pg';
import { afterEach } from 'vitest';
import type { VigilEvent } from '../../src/contracts/event.js';
import type { Logger } from '../../src/log.js';
import { DATABASE_URL, createTestEnv, type TestEnv } from './env.js';
import { startSources, type SourceHarness } from './source-harness.js';

export { createTasksTable, installTaskTrigger } from '../../src/demo/helix-tasks.js';

/** The status a task takes next: every update is a change, and every fourth one a failure. */
export const nextStatusSql = `CASE status WHEN 'pending' THEN 'running' WHEN 'running' THEN 'failed'
  WHEN 'failed' THEN 'done' ELSE 'pending' END`;
export const statusCycle = ['pending', 'running', 'failed', 'done'] as const;

/** What a pg-outbox test opens besides its TestEnv: agents' sources and writer connections. */
export interface OutboxWorld {
  /** Agent `n`'s pg-outbox source named "helix" (fields of the entry in `source`), running. */
  start(n: number, source?: Record<string, unknown>, log?: Logger): Promise<SourceHarness>;
  /** A writer's own connection. */
  connect(): Promise<pg.Client>;
  close(): Promise<void>;
}

export function outboxWorld(env: TestEnv): OutboxWorld {
  const harnesses: SourceHarness[] = [];
  const clients: pg.Client[] = [];
  return {
    async start(n, source = {}, log) {
      const config = env.config({ sources: [{ kind: 'pg-outbox', name: 'helix', ...source } as never] });
      const h = await startSources(config, { agentId: `test-${env.id}-${n}`, ...(log ? { log } : {}) });
      harnesses.push(h);
      return h;
    },
    async connect() {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      clients.push(client);
      await client.connect();
      return client;
    },
    async close() {
      await Promise.allSettled(clients.splice(0).map((c) => c.end()));
      await Promise.allSettled(harnesses.splice(0).map((h) => h.close()));
    },
  };
}

/** The outbox row an event of the "helix" source came from. */
export const rowIdOf = (e: VigilEvent) => Number(e.id.slice('pg-helix-'.length));

/** A fresh test env and outbox world per call, both closed after each test. */
export function useOutboxWorlds(): () => Promise<{ env: TestEnv; world: OutboxWorld }> {
  let env: TestEnv | undefined;
  let world: OutboxWorld | undefined;
  afterEach(async () => {
    await world?.close();
    await env?.cleanup();
    env = world = undefined;
  });
  return async () => {
    env = await createTestEnv();
    world = outboxWorld(env);
    return { env, world };
  };
}
