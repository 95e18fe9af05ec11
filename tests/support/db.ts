/**
 * A fresh database per test file, on the server of the global setup; dropped when the file ends. In the
 * `citus` project (vitest.config.ts) the server is a Citus coordinator: the database is then made on every
 * node, with the citus extension and the workers registered, as an operator would.
 */
import { randomBytes } from 'node:crypto';

import pg from 'pg';
import { afterAll, inject } from 'vitest';

import { migrate } from '../../loader/migrate.js';
import { createCitusDatabase, dropCitusDatabase } from './citus-cluster.js';
import type {} from './citus-setup.js';

export interface TestDatabase {
  url: string;
  name: string;
  pool: pg.Pool;
  /** environment for a child process of ours that should use this database */
  env: NodeJS.ProcessEnv;
  /** the database is on a Citus cluster (the `citus` test project) */
  citus: boolean;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * What to drop when the file ends. One hook registered when this module is imported (while the file is
 * collected): an afterAll registered inside a test or a beforeAll never runs, which left every database
 * made there behind.
 */
const dropAtEnd: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const drop of dropAtEnd.splice(0)) await drop();
});

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('adminUrl') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Create a fresh database (migrated unless `migrated: false`) and drop it after the file's tests. */
export async function freshDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  const workers = inject('citusWorkerPorts');
  const coordinator = Number(new URL(inject('adminUrl')).port);
  if (workers?.length) await createCitusDatabase(coordinator, workers, name);
  else await admin((c) => c.query(`create database ${name}`));
  const url = withDatabase(inject('adminUrl'), name);
  if (options.migrated ?? true) await migrate({ connectionString: url }, 'up');
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  dropAtEnd.push(async () => {
    await pool.end();
    if (workers?.length) await dropCitusDatabase(coordinator, workers, name);
    else await admin((c) => c.query(`drop database if exists ${name} with (force)`));
  });
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: url };
  delete env.PGHOST;
  return { url, name, pool, env, citus: Boolean(workers?.length) };
}
