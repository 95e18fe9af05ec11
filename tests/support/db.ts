/**
 * A fresh database per test file, on the server of the global setup; dropped when the file ends. It is a
 * copy (CREATE DATABASE … TEMPLATE) of one of the run's templates (global-setup.ts, citus-setup.ts):
 * migrated, or with the bundled dataset loaded and transformed (`bundled: true`, made once per run by the
 * first file that asks, with the real loader CLI and runTransform as the service logins, as deployed). In
 * the `citus` project (vitest.config.ts) the server is a Citus coordinator and two workers: a database
 * there is one database of the same name on every node (the coordinator's metadata names the shards, the
 * workers hold them), so every step is taken on every node, and a copy of each node's database under one
 * new name is a copy of the distributed database, shards, metadata and all.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';
import { afterAll, inject } from 'vitest';

import { projectRoot } from '../../loader/paths.js';
import { runTransform } from '../../loader/transform/index.js';
import { closeDatabaseOn, createCitusDatabase, on, sql } from './citus-cluster.js';
import type {} from './citus-setup.js';
import type {} from './global-setup.js';
import { dropLogins, libpqEnv, loginVariables, poolAs, runServiceRoles } from './services.js';

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
  dropAtEnd.set(name, async () => {
    await db.pool.end();
    await onEveryNode(`drop database if exists ${name} with (force)`);
  });
  return db;
}

/** The `postgres` database of every server the run's databases live on: one, or a Citus cluster's every node. */
function nodes(): string[] {
  const adminUrl = inject('adminUrl');
  const workers = inject('citusWorkerPorts') ?? [];
  return [adminUrl, ...workers.map((p) => on(p, 'postgres'))];
}

/** Statements run on every node, in order (the coordinator first). */
async function onEveryNode(...statements: string[]): Promise<void> {
  for (const url of nodes()) await sql(url, ...statements);
}

/**
 * Close database `name` on every node, for CREATE DATABASE … TEMPLATE or a rename (closeDatabaseOn in
 * citus-cluster.ts: no new sessions, every session ended); `reopen` undoes it.
 */
async function closeDatabase(name: string): Promise<void> {
  await closeDatabaseOn(nodes(), name);
}

async function reopen(name: string): Promise<void> {
  await onEveryNode(`alter database ${name} allow_connections true`);
}

/**
 * The bundled dataset loaded and transformed as deployed, as `npm start` would on a compose stack: login roles
 * made by docker/service-roles.sh (after migrate as the superuser), the loader CLI (every file, its default
 * jobs) as the loader login, then runTransform once as the transform login: what the `bundled` template
 * holds. The logins are dropped once the template is built (they own nothing: every object belongs to its
 * group role), so a test that wants to log in makes its own (createServiceLogins).
 */
async function loadAndTransformBundled(url: string): Promise<void> {
  const made = loginVariables();
  try {
    const logins = runServiceRoles(url, made);
    await exec(process.execPath, [join(projectRoot, 'dist', 'loader', 'cli', 'load.js'), '--quiet'], { env: libpqEnv(url, logins.loader), maxBuffer: 1 << 24 });
    const pool = poolAs({ url }, logins.transformer);
    try {
      await runTransform({ pool });
    } finally {
      await pool.end();
    }
  } finally {
    await dropLogins(Object.values(made.logins));
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
      await onEveryNode(`drop database if exists ${build} with (force)`, `create database ${build} template ${prefix}_migrated`);
      try {
        await loadAndTransformBundled(withDatabase(inject('adminUrl'), build));
        // renamed when complete (the coordinator last: its name is what the check above looks for); a
        // template takes no connections
        await closeDatabase(build);
        for (const url of nodes().reverse()) await sql(url, `alter database ${build} rename to ${name}`);
      } catch (err) {
        await onEveryNode(`drop database if exists ${build} with (force)`).catch(() => undefined);
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
  const citus = Boolean(workers?.length);
  if (citus && !migrated && !options.bundled) {
    // the citus extension and the workers registered, as an operator would, and nothing else
    await createCitusDatabase(Number(new URL(inject('adminUrl')).port), workers!, name);
    return testDatabase(name, true);
  }
  const template = options.bundled ? await bundledTemplate(prefix) : migrated ? `${prefix}_migrated` : 'template1';
  await onEveryNode(`create database ${name} template ${template}`);
  // (a copy takes connections: ALLOW_CONNECTIONS is not copied from the template)
  return testDatabase(name, citus);
}

/**
 * A copy of `db` (CREATE DATABASE … TEMPLATE on every node: the same rows, load ids and bookkeeping),
 * dropped after the file's tests. `db.pool` is closed for the copy and replaced by a new pool; the file's
 * other connections to `db` should be closed first (closeDatabase ends any that are left).
 */
export async function copyDatabase(db: TestDatabase): Promise<TestDatabase> {
  await db.pool.end();
  const name = `test_${randomBytes(6).toString('hex')}`;
  try {
    await closeDatabase(db.name);
    await onEveryNode(`create database ${name} template ${db.name}`);
  } finally {
    await reopen(db.name);
    db.pool = newPool(db.url);
  }
  return testDatabase(name, db.citus);
}

/** Drop a database of this file now rather than when the file ends (its pool is closed). */
export async function dropDatabase(db: TestDatabase): Promise<void> {
  const drop = dropAtEnd.get(db.name);
  dropAtEnd.delete(db.name);
  await drop?.();
}
