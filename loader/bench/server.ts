/**
 * The server the benchmark measures on: DATABASE_URL, the PG* variables, or the embedded one
 * (started for the run when it is not running). Creates and drops throw-away databases on it and
 * builds the environment that points a child process (psql, pgloader, our CLIs) at one of them,
 * passing the password through the environment, never on a command line.
 */
import { randomBytes } from 'node:crypto';

import pg from 'pg';

import { resolveDbTarget } from '../config.js';
import { embeddedOptions } from '../db.js';
import { startEmbedded, stopEmbedded } from '../embedded.js';
import { projectRoot } from '../paths.js';

export interface BenchServer {
  describe: string;
  version: string;
  create(): Promise<string>;
  drop(name: string): Promise<void>;
  /** run SQL in a database (no parameters needed here) */
  sql(database: string, text: string): Promise<pg.QueryResult>;
  /** environment for a child process using `database`: DATABASE_URL for our CLIs, PG* for psql and pgloader */
  env(database: string): NodeJS.ProcessEnv;
  /** env(database), logged in as another role (a service login) */
  envAs(database: string, user: string, password: string): NodeJS.ProcessEnv;
  /** drop login roles made for a run (cluster-wide; after their database is dropped) */
  dropRoles(names: string[]): Promise<void>;
  /** postgresql://user@host:port/db, without the password (pgloader reads PGPASSWORD) */
  passwordlessUrl(database: string): string;
  close(): Promise<void>;
}

export async function openBenchServer(): Promise<BenchServer> {
  const target = resolveDbTarget(process.env, projectRoot);
  let url: URL | undefined;
  let stop = async () => undefined as unknown;
  if (target.kind === 'url') url = new URL(target.connectionString);
  else if (target.kind === 'embedded') {
    const o = embeddedOptions(target);
    const server = await startEmbedded(o);
    url = new URL(server.url);
    if (server.startedHere) stop = () => stopEmbedded(o);
  }
  const withDb = (database: string) => {
    if (!url) return { database };
    const u = new URL(url);
    u.pathname = `/${database}`;
    return { connectionString: u.toString() };
  };
  const admin = new pg.Client(url ? { connectionString: url.toString() } : {});
  await admin.connect();
  const version = String((await admin.query('select version() as v')).rows[0].v);
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const envOf = (database: string): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (url) {
      const u = new URL(url);
      u.pathname = `/${database}`;
      env.DATABASE_URL = u.toString();
      env.PGHOST = u.hostname;
      env.PGPORT = u.port || '5432';
      env.PGUSER = decodeURIComponent(u.username);
      env.PGPASSWORD = decodeURIComponent(u.password);
      for (const [k, v] of u.searchParams) if (k === 'sslmode') env.PGSSLMODE = v;
    } else delete env.DATABASE_URL;
    env.PGDATABASE = database;
    return env;
  };
  return {
    describe: target.kind === 'embedded' ? `embedded PostgreSQL on port ${url?.port}` : target.kind === 'url' ? `DATABASE_URL (host ${url?.hostname})` : 'PG* environment variables',
    version,
    async create() {
      const name = `bench_${randomBytes(5).toString('hex')}`;
      await admin.query(`create database ${quote(name)}`);
      return name;
    },
    async drop(name) {
      await admin.query(`drop database if exists ${quote(name)} with (force)`);
    },
    async sql(database, text) {
      const c = new pg.Client(withDb(database));
      await c.connect();
      try {
        return await c.query(text);
      } finally {
        await c.end();
      }
    },
    env: envOf,
    envAs(database, user, password) {
      const env = envOf(database);
      if (env.DATABASE_URL) {
        const u = new URL(env.DATABASE_URL);
        u.username = encodeURIComponent(user);
        u.password = encodeURIComponent(password);
        env.DATABASE_URL = u.toString();
      }
      env.PGUSER = user;
      env.PGPASSWORD = password;
      return env;
    },
    async dropRoles(names) {
      for (const name of names) await admin.query(`drop role if exists ${quote(name)}`);
    },
    passwordlessUrl(database) {
      const host = url?.hostname ?? process.env.PGHOST ?? 'localhost';
      const port = url?.port || process.env.PGPORT || '5432';
      const user = url ? decodeURIComponent(url.username) : process.env.PGUSER ?? 'postgres';
      return `postgresql://${encodeURIComponent(user)}@${host}:${port}/${database}`;
    },
    async close() {
      await admin.end().catch(() => undefined);
      await stop();
    },
  };
}
