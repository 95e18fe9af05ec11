/**
 * A real Citus cluster for the tests (I/O): a coordinator and two workers on loopback, from Debian's
 * PostgreSQL 15 binaries with Citus installed (CITUS_PG_BIN, default /usr/lib/postgresql/15/bin), started
 * the way the embedded server is: initdb into a temporary folder, run as the user postgres when we are
 * root, trust auth on 127.0.0.1 only, free ports. Stopped and removed at the end of the run.
 */
import { chown, mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

import { run, serverUser } from '../../loader/embedded.js';
import { citusBin } from './citus-available.js';

export interface CitusCluster {
  /** the coordinator's postgres database, as the superuser */
  adminUrl: string;
  coordinatorPort: number;
  workerPorts: number[];
  stop: () => Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startCitusCluster(workers = 2): Promise<CitusCluster> {
  const user = await serverUser();
  const root = await mkdtemp(join(tmpdir(), 'retail-citus-'));
  if (user) await chown(root, user.uid, user.gid);
  const ports: number[] = [];
  for (let i = 0; i <= workers; i++) ports.push(await freePort());
  const dirs = ports.map((p) => join(root, `n${p}`));
  const stop = async (): Promise<void> => {
    for (const d of dirs) await run(join(citusBin, 'pg_ctl'), ['-D', d, '-m', 'immediate', 'stop'], user).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  };
  try {
    for (const [i, d] of dirs.entries()) {
      await run(join(citusBin, 'initdb'), ['-D', d, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'], user);
      await appendFile(
        join(d, 'postgresql.conf'),
        [
          `listen_addresses = '127.0.0.1'`,
          `port = ${ports[i]}`,
          `unix_socket_directories = '${root}'`,
          `shared_preload_libraries = 'citus'`,
          `max_connections = 300`,
          // fewer shards than Citus's 32: the tests' batches are small, and each statement over a
          // distributed table runs one task per shard
          `citus.shard_count = 8`,
          // loopback, no TLS: without this Citus asks for TLS and libpq looks for a client certificate
          // in the HOME of the process that started the server (root's, unreadable to postgres)
          `citus.node_conninfo = 'sslmode=disable'`,
          `fsync = off`,
          `synchronous_commit = off`,
          `full_page_writes = off`,
          '',
        ].join('\n'),
      );
      await writeFile(join(d, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
      await run(join(citusBin, 'pg_ctl'), ['-D', d, '-l', `${d}.log`, '-w', 'start'], user);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { adminUrl: `postgres://postgres@127.0.0.1:${ports[0]}/postgres`, coordinatorPort: ports[0]!, workerPorts: ports.slice(1), stop };
}

export function on(port: number, database: string): string {
  return `postgres://postgres@127.0.0.1:${port}/${database}`;
}

/** Run statements in order on one connection to `url`. */
export async function sql(url: string, ...statements: string[]): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    for (const s of statements) await c.query(s);
  } finally {
    await c.end();
  }
}

/** A database on every node with the citus extension, the workers registered with the coordinator. */
export async function createCitusDatabase(coordinatorPort: number, workerPorts: number[], name: string): Promise<void> {
  for (const port of [coordinatorPort, ...workerPorts]) {
    await sql(on(port, 'postgres'), `create database ${name}`);
    await sql(on(port, name), 'create extension citus');
  }
  await sql(
    on(coordinatorPort, name),
    `select citus_set_coordinator_host('127.0.0.1', ${coordinatorPort})`,
    ...workerPorts.map((p) => `select citus_add_node('127.0.0.1', ${p})`),
  );
}

/**
 * Close database `name` on every server in `urls` (their `postgres` databases), for CREATE DATABASE …
 * TEMPLATE or a rename (both refuse a database anyone is connected to): no new sessions (ALLOW_CONNECTIONS
 * false) on any server first, then every session ended and waited for. On Citus that includes the
 * maintenance daemon (a background worker in every database with the extension, restarted only by the
 * next session, which can no longer come) and the coordinator's cached connections to the workers.
 */
export async function closeDatabaseOn(urls: string[], name: string): Promise<void> {
  for (const url of urls) await sql(url, `alter database ${name} allow_connections false`);
  for (const url of urls) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      for (let i = 0; ; i++) {
        // the sessions picked first (offset 0: pg_terminate_backend is never evaluated for another row, ours included)
        const { rows } = await c.query<{ n: number }>(
          `select count(*)::int as n
             from (select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() offset 0) as s
            where pg_terminate_backend(s.pid, 5000)`, [name]);
        const { rows: left } = await c.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
        if (left[0]!.n === 0) break;
        if (i === 50) throw new Error(`database ${name} still has ${left[0]!.n} sessions on ${new URL(url).port} (${rows[0]!.n} ended)`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await c.end();
    }
  }
}
