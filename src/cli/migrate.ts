import { loadConfig } from '../config/load.js';
import { migrate } from '../db/migrate.js';
import { checkPostgres, createPool } from '../db/pool.js';

export async function runMigrate(opts: { config?: string }): Promise<void> {
  const config = loadConfig(opts.config === undefined ? {} : { file: opts.config });
  const pool = createPool(config.database, 'vigil migrate');
  try {
    await checkPostgres(pool, config.database.url);
    const applied = await migrate(pool, config.database.schema);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
  } finally {
    await pool.end();
  }
}
