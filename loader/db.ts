import pg from 'pg';

import { describeTarget, resolveDbTarget, type DbTarget } from './config.js';
import { placeDataDir, startEmbedded, stopEmbedded, type EmbeddedOptions } from './embedded.js';
import { migrate, pendingMigrations } from './migrate.js';
import { projectRoot } from './paths.js';

// Postgres bigint (count(*), ids) as JS numbers: our counts stay far below 2^53. numeric stays text (exact money).
pg.types.setTypeParser(20, (v: string) => Number(v));

/** A database for the duration of one command. */
export interface Database {
  /** connection settings for new clients (COPY streams take their own client) */
  config: pg.ClientConfig;
  pool: pg.Pool;
  target: DbTarget;
  describe: string;
  /** end the pool, and stop the embedded server if this command started it */
  close(): Promise<void>;
}

export function embeddedOptions(target: Extract<DbTarget, { kind: 'embedded' }>): EmbeddedOptions {
  return { dataDir: placeDataDir(target.dataDir), port: target.port, database: target.database, portVariable: 'EMBEDDED_PG_PORT' };
}

export interface OpenOptions {
  env?: NodeJS.ProcessEnv;
  /** apply pending migrations before returning (default true; node-pg-migrate is loaded only when some are pending) */
  migrate?: boolean;
  poolSize?: number;
}

/** Resolve the target, start the embedded server when needed, apply pending migrations. */
export async function openDatabase(options: OpenOptions = {}): Promise<Database> {
  const env = options.env ?? process.env;
  const target = resolveDbTarget(env, projectRoot);
  let config: pg.ClientConfig;
  let stopAfter: (() => Promise<void>) | undefined;
  if (target.kind === 'url') config = { connectionString: target.connectionString };
  else if (target.kind === 'libpq') config = {};
  else {
    const o = embeddedOptions(target);
    const server = await startEmbedded(o);
    config = { connectionString: server.url };
    if (server.startedHere) stopAfter = async () => void (await stopEmbedded(o));
  }
  const pool = new pg.Pool({ ...config, max: options.poolSize ?? 4 });
  pool.on('error', () => undefined); // an idle client lost: the next query reports it
  // a client checked out of the pool (a transform run's connection) whose socket fails after its query did would
  // emit 'error' with no listener and end the process; the query that failed has already reported it
  pool.on('connect', (client) => void client.on('error', () => undefined));
  const db: Database = {
    config,
    pool,
    target,
    describe: describeTarget(target),
    async close() {
      await pool.end().catch(() => undefined);
      if (stopAfter) await stopAfter();
    },
  };
  if (options.migrate ?? true) {
    try {
      if ((await pendingMigrations(pool)).length) await migrate(config, 'up');
    } catch (err) {
      await db.close();
      throw err;
    }
  }
  return db;
}
