/**
 * A fresh database per test file, on the server of the global setup; dropped when the file ends. On
 * PostgreSQL it is a copy (CREATE DATABASE … TEMPLATE) of one of the run's templates (global-setup.ts):
 * migrated, or with the bundled dataset loaded and transformed (`bundled: true`, made once per run by the
 * first file that asks, with the real loader CLI and runTransform, exactly as a test would). In the `citus`
 * project (vitest.config.ts) the server is a Citus coordinator, where a database cannot be copied: the
 * database is made on every node, with the citus extension and the workers registered, as an operator
 * would, then migrated (and loaded and transformed) in place.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';
import { afterAll, inject } from 'vitest';

import { migrate } from '../../loader/migrate.js';
import { projectRoot } from '../../loader/paths.js';
import { runTransform } from '../../loader/transform/index.js';
import { createCitusDatabase, dropCitusDatabase } from './citus-cluster.js';
import type {} from './citus-setup.js';
import type {} from './global-setup.js';

const exec = promisify(execFile);

export interface TestDatabase {
  url: string;
  name: string;
  /** replaced by copyDatabase (which has to close it) */
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
const dropAtEnd = new Map<string, () => Promise<void>>();
afterAll(async () => {
  for (const [name, drop] of [...dropAtEnd]) {
    dropAtEnd.delete(name);
    await drop();
  }
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

function newPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  return pool;
}

function testDatabase(name: string, citus: boolean): TestDatabase {
  const url = withDatabase(inject('adminUrl'), name);
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: url };
  delete env.PGHOST;
  const db: TestDatabase = { url, name, pool: newPool(url), env, citus };
  const workers = inject('citusWorkerPorts');
  const coordinator = Number(new URL(inject('adminUrl')).port);
  dropAtEnd.set(name, async () => {
    await db.pool.end();
    if (workers?.length) await dropCitusDatabase(coordinator, workers, name);
    else await admin((c) => c.query(`drop database if exists ${name} with (force)`));
  });
  return db;
}

/**
 * The bundled dataset loaded by the loader CLI (every file, its default jobs) and transformed once, as
 * `npm start` does: what the `bundled` template holds.
 */
async function loadAndTransformBundled(url: string): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: url };
  delete env.PGHOST;
  await exec(process.execPath, [join(projectRoot, 'dist', 'loader', 'cli', 'load.js'), '--quiet'], { env, maxBuffer: 1 << 24 });
  const pool = newPool(url);
  try {
    await runTransform({ pool });
  } finally {
    await pool.end();
  }
}

/** The run's bundled template, made by the first caller (under an advisory lock the others wait on). */
async function bundledTemplate(prefix: string): Promise<string> {
  const name = `${prefix}_bundled`;
  await admin(async (c) => {
    // advisory locks are per database: every caller takes it on the admin database
    await c.query(`select pg_advisory_lock(hashtext($1))`, [name]);
    try {
      if ((await c.query('select 1 from pg_database where datname = $1', [name])).rowCount) return;
      const build = `${name}_build`;
      await c.query(`drop database if exists ${build} with (force)`);
      await c.query(`create database ${build} template ${prefix}_migrated`);
      try {
        await loadAndTransformBundled(withDatabase(inject('adminUrl'), build));
        await c.query(`alter database ${build} rename to ${name}`);
        await c.query(`alter database ${name} allow_connections false`);
      } catch (err) {
        await c.query(`drop database if exists ${build} with (force)`).catch(() => undefined);
        throw err;
      }
    } finally {
      await c.query(`select pg_advisory_unlock(hashtext($1))`, [name]);
    }
  });
  return name;
}

/**
 * Create a fresh database and drop it after the file's tests: migrated (unless `migrated: false`), and with
 * `bundled: true` holding the bundled dataset loaded by the loader CLI and transformed once (one complete
 * full run in meta.transform_runs).
 */
export async function freshDatabase(options: { migrated?: boolean; bundled?: boolean } = {}): Promise<TestDatabase> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  const workers = inject('citusWorkerPorts');
  const prefix = inject('templatePrefix');
  const migrated = options.migrated ?? true;
  if (workers?.length || !prefix) {
    const coordinator = Number(new URL(inject('adminUrl')).port);
    if (workers?.length) await createCitusDatabase(coordinator, workers, name);
    else await admin((c) => c.query(`create database ${name}`));
    const db = testDatabase(name, Boolean(workers?.length));
    if (migrated || options.bundled) await migrate({ connectionString: db.url }, 'up');
    if (options.bundled) await loadAndTransformBundled(db.url);
    return db;
  }
  const template = options.bundled ? await bundledTemplate(prefix) : migrated ? `${prefix}_migrated` : 'template1';
  await admin((c) => c.query(`create database ${name} template ${template}`));
  // (a copy takes connections: ALLOW_CONNECTIONS is not copied from the template)
  return testDatabase(name, false);
}

/**
 * A copy of `db` (CREATE DATABASE … TEMPLATE: the same rows, load ids and bookkeeping), dropped after the
 * file's tests. `db.pool` is closed for the copy and replaced by a new pool; every other connection to `db`
 * must be closed first. Not on Citus (a distributed database cannot be copied that way).
 */
export async function copyDatabase(db: TestDatabase): Promise<TestDatabase> {
  if (db.citus) throw new Error('copyDatabase: a Citus database cannot be copied with CREATE DATABASE … TEMPLATE');
  await db.pool.end();
  const name = `test_${randomBytes(6).toString('hex')}`;
  try {
    await admin((c) => c.query(`create database ${name} template ${db.name}`));
  } finally {
    db.pool = newPool(db.url);
  }
  return testDatabase(name, false);
}

/** Drop a database of this file now rather than when the file ends (its pool is closed). */
export async function dropDatabase(db: TestDatabase): Promise<void> {
  const drop = dropAtEnd.get(db.name);
  dropAtEnd.delete(db.name);
  await drop?.();
}
