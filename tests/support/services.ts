/**
 * The compose services' login roles on a test database, made by the stack's own script
 * (docker/service-roles.sh, run natively with psql), and environments that log in as them.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import pg from 'pg';
import { afterAll, inject } from 'vitest';

import { projectRoot } from '../../loader/paths.js';
import type { TestDatabase } from './db.js';

export interface Login {
  user: string;
  password: string;
}

export interface ServiceLogins {
  loader: Login;
  transformer: Login;
  analyst: Login;
  /** what docker/service-roles.sh printed */
  output: string;
}

/** PG* variables for `url` (as the compose services get them), optionally as another login; DATABASE_URL removed. */
export function libpqEnv(url: string, login?: Login, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const u = new URL(url);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PGHOST: u.hostname,
    PGPORT: u.port || '5432',
    PGDATABASE: decodeURIComponent(u.pathname.slice(1)),
    PGUSER: login?.user ?? decodeURIComponent(u.username),
    PGPASSWORD: login?.password ?? decodeURIComponent(u.password),
    ...extra,
  };
  delete env.DATABASE_URL;
  return env;
}

/** The variables of the roles service for fresh, uniquely named logins (roles are cluster-wide). */
export function loginVariables(): { vars: Record<string, string>; logins: Omit<ServiceLogins, 'output'> } {
  const tag = randomBytes(4).toString('hex');
  const make = (what: string): Login => ({ user: `svc_${what}_${tag}`, password: randomBytes(12).toString('hex') });
  const logins = { loader: make('loader'), transformer: make('transform'), analyst: make('analyst') };
  const vars = {
    LOADER_DB_USER: logins.loader.user,
    LOADER_DB_PASSWORD: logins.loader.password,
    TRANSFORM_DB_USER: logins.transformer.user,
    TRANSFORM_DB_PASSWORD: logins.transformer.password,
    ANALYST_DB_USER: logins.analyst.user,
    ANALYST_DB_PASSWORD: logins.analyst.password,
  };
  return { vars, logins };
}

/** Drop these login roles (cluster-wide) now, as the run's superuser. */
export async function dropLogins(logins: Iterable<Login>): Promise<void> {
  const client = new pg.Client({ connectionString: inject('adminUrl') });
  await client.connect();
  try {
    for (const login of logins) await client.query(`drop role if exists "${login.user}"`);
  } finally {
    await client.end();
  }
}

/** Logins to drop when the file ends (one hook, registered at import: see tests/support/db.ts). */
const dropAtEnd: Login[] = [];
afterAll(() => dropLogins(dropAtEnd.splice(0)));

/** Drop these login roles (cluster-wide) when the file's tests end. */
export function dropLoginsAtEnd(logins: Iterable<Login>): void {
  dropAtEnd.push(...logins);
}

/** Run the roles script as the superuser of `db`; the logins are dropped after the file's tests. */
export function createServiceLogins(db: TestDatabase, script = join(projectRoot, 'docker', 'service-roles.sh')): ServiceLogins {
  const made = loginVariables();
  dropLoginsAtEnd(Object.values(made.logins));
  return runServiceRoles(db.url, made, script);
}

/** Run the roles script as the superuser of the database at `url`, for the logins of `made`; dropping them is the caller's. */
export function runServiceRoles(url: string, made = loginVariables(), script = join(projectRoot, 'docker', 'service-roles.sh')): ServiceLogins {
  const run = spawnSync('sh', [script], { env: libpqEnv(url, undefined, made.vars), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`service-roles.sh exited ${run.status}: ${run.stderr}`);
  return { ...made.logins, output: run.stdout };
}

/** A pool that logs in as `login` (acting as its group role, as the compose services do). */
export function poolAs(db: Pick<TestDatabase, 'url'>, login: Login): pg.Pool {
  const env = libpqEnv(db.url, login);
  const pool = new pg.Pool({ host: env.PGHOST, port: Number(env.PGPORT), database: env.PGDATABASE, user: login.user, password: login.password, max: 2 });
  pool.on('error', () => undefined);
  return pool;
}
