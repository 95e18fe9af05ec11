/**
 * The embedded server's lifecycle through the real commands, on a throw-away data directory
 * and port (the suite's own server is not touched).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { placeDataDir } from '../loader/embedded.js';
import { projectRoot } from '../loader/paths.js';

interface Run { code: number; stdout: string; stderr: string }

let dir: string;
let port: number;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function cli(script: string, args: string[], extra: Record<string, string> = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, EMBEDDED_PG_DATA: join(dir, 'postgres'), EMBEDDED_PG_PORT: String(port), ...extra };
  delete env.DATABASE_URL;
  delete env.PGHOST;
  return new Promise((resolve) => {
    execFile(process.execPath, [join(projectRoot, 'dist/loader/cli', script), ...args], { env }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const status = async () => (await cli('db.js', ['status'])).stdout.trim();

async function countTables(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: number }>(`select count(*)::int as n from information_schema.tables where table_schema in ('meta', 'staging', 'core')`);
    return rows[0]?.n ?? 0;
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'elt-embedded-'));
  chmodSync(dir, 0o755); // as root, the server runs as the postgres user, which must reach the folder
  port = await freePort();
});

afterAll(async () => {
  await cli('db.js', ['stop']);
  rmSync(dir, { recursive: true, force: true });
});

describe('where the data directory goes', () => {
  it('stays where asked when the server user can reach it, and moves out of a private folder when run as root', () => {
    expect(placeDataDir(join(dir, 'postgres'))).toBe(join(dir, 'postgres'));
    const secret = mkdtempSync(join(tmpdir(), 'elt-private-'));
    chmodSync(secret, 0o700);
    try {
      const placed = placeDataDir(join(secret, 'pg'));
      if (process.getuid?.() === 0) expect(placed).toMatch(/^\/var\/lib\/retail-elt\/[0-9a-f]{12}\/postgres$/);
      else expect(placed).toBe(join(secret, 'pg'));
      expect(placeDataDir(join(secret, 'pg'))).toBe(placed);
    } finally {
      rmSync(secret, { recursive: true, force: true });
    }
  });
});

describe('embedded PostgreSQL lifecycle', () => {
  it('a command that needs the database starts a stopped server for its own duration, then stops it', async () => {
    expect(await status()).toBe('stopped');
    const r = await cli('migrate.js', []);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/applied: .*contract-tables/);
    expect(await status()).toBe('stopped');
  });

  it('db:start starts and leaves it running with a working URL; a second start is a no-op', async () => {
    const first = await cli('db.js', ['start']);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/started on port/);
    const url = first.stdout.trim();
    expect(url).toMatch(new RegExp(`^postgres://postgres:[^@]+@127\\.0\\.0\\.1:${port}/retail$`));
    expect(await countTables(url)).toBeGreaterThanOrEqual(5);
    expect(await status()).toMatch(new RegExp(`^running \\(pid \\d+, port ${port}\\)$`));

    const second = await cli('db.js', ['start']);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/already running/);
    expect(second.stdout.trim()).toBe(url);
    expect((await cli('db.js', ['url'])).stdout.trim()).toBe(url);

    // a command while it runs uses it and leaves it running
    expect((await cli('migrate.js', [])).stdout).toMatch(/up to date/);
    expect(await status()).toMatch(/^running/);
  });

  it('db:stop stops it, and a second stop says so', async () => {
    const r = await cli('db.js', ['stop']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/stopped/);
    expect(await status()).toBe('stopped');
    expect((await cli('db.js', ['stop'])).stderr).toMatch(/was not running/);
  });

  it('recovers from a server killed with SIGKILL whose pid file names a live, unrelated process', async () => {
    const started = await cli('db.js', ['start']);
    const url = started.stdout.trim();
    const pid = Number(/pid (\d+)/.exec(await status())?.[1]);
    process.kill(pid, 'SIGKILL');
    await waitForPortFree(port);
    const pidFile = join(dir, 'postgres', 'postmaster.pid');
    const lines = readFileSync(pidFile, 'utf8').split('\n');
    lines[0] = String(process.pid); // pid reuse: a live process that is not postgres
    writeFileSync(pidFile, lines.join('\n'));

    expect(await status()).toBe('stopped');
    const again = await cli('db.js', ['start']);
    expect(again.stderr).toMatch(/started on port/);
    expect(again.code).toBe(0);
    expect(await countTables(url)).toBeGreaterThanOrEqual(5);
    await cli('db.js', ['stop']);
  });

  it('a port taken by another program is a clear usage error naming the port and the variable', async () => {
    const blocker: Server = await new Promise((resolve) => {
      const s = createServer().listen(port, '127.0.0.1', () => resolve(s));
    });
    try {
      const r = await cli('db.js', ['start']);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(`db: port ${port} is already in use by another program; set EMBEDDED_PG_PORT to a free port`);
      const m = await cli('migrate.js', []);
      expect(m.code).toBe(2);
      expect(m.stderr).toContain(`port ${port} is already in use`);
      expect(m.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

async function waitForPortFree(p: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${p} still busy`);
}
