/** Atomicity on a real PostgreSQL: kill -9 mid-file, a dropped connection, leftovers, a busy load. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bundledDataDir, projectRoot } from '../loader/paths.js';
import { freshDatabase, type TestDatabase } from './support/db.js';
import { expectAccounted, loadCli, loads, runLoad } from './support/load.js';

const ROWS = 250_000;
let db: TestDatabase;
let dir: string;
let big: string;

/** A large Online-Retail-shaped file: the first bundled days' rows repeated, `tag` in the first row. */
async function generate(path: string, rows: number, tag: string): Promise<void> {
  const days = readdirSync(bundledDataDir).sort().slice(0, 3);
  const lines = days.flatMap((d) => gunzipSync(readFileSync(join(bundledDataDir, d))).toString().split('\n').slice(1).filter(Boolean));
  const out = createWriteStream(path);
  out.write(`InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n${tag},T,TAG,1,2011-01-01 10:00:00,1.00,1,UK\n`);
  for (let i = 1; i < rows; ) {
    const n = Math.min(lines.length, rows - i);
    if (!out.write(lines.slice(0, n).join('\n') + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
    i += n;
  }
  await new Promise<void>((r) => out.end(() => r()));
}

/** Wait until the test database shows a COPY into staging that has taken rows; returns the COPY backends. */
async function copyInProgress(): Promise<number[]> {
  for (let i = 0; i < 1000; i++) {
    const { rows } = await db.pool.query<{ pid: number }>(
      `select pid from pg_stat_progress_copy where datname = current_database() and tuples_processed > 0`,
    );
    if (rows.length) return rows.map((r) => r.pid);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no COPY seen');
}

async function visibleRows(source: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `select count(*) as n from staging.transactions t join meta.loads l on l.load_id = t.load_id and l.status = 'complete' where l.source = $1`,
    [source],
  );
  return rows[0]!.n;
}

async function expectWhole(loadId: number, rows: number): Promise<void> {
  const { rows: r } = await db.pool.query(
    `select count(*) as n, count(distinct line_no) as lines, min(line_no) as first, max(line_no) as last from staging.transactions where load_id = $1`,
    [loadId],
  );
  expect(r[0]).toEqual({ n: rows, lines: rows, first: 2, last: rows + 1 });
}

beforeAll(async () => {
  db = await freshDatabase();
  dir = mkdtempSync(join(tmpdir(), 'load-kill-'));
  big = join(dir, 'big.csv');
  await generate(big, ROWS, 'KILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => expectAccounted(db));

describe('atomicity', () => {
  it('a loader killed with SIGKILL mid-file leaves nothing visible; the rerun cleans up and loads the file whole', async () => {
    const child = spawn(process.execPath, [loadCli, '--jobs', '1', big], { cwd: projectRoot, env: db.env, stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    await copyInProgress();
    child.kill('SIGKILL');
    await exited;
    const [killed] = await loads(db);
    expect(killed).toMatchObject({ status: 'running', source: big });
    expect(await visibleRows(big)).toBe(0);

    const rerun = await runLoad(db, ['--json', big]);
    expect(rerun.code).toBe(0);
    const result = JSON.parse(rerun.stdout).results[0];
    expect(result).toMatchObject({ status: 'loaded', rowsRead: ROWS, rowsStaged: ROWS, rowsRejected: 0 });
    const after = await loads(db);
    expect(after.map((l) => [l.load_id, l.status])).toEqual([
      [killed!.load_id, 'failed'],
      [result.loadId, 'complete'],
    ]);
    expect(after[0]!.error).toMatch(/^abandoned/);
    await expectWhole(result.loadId, ROWS);
    expect(await visibleRows(big)).toBe(ROWS);
  });

  it('a COPY connection dropped mid-file fails the load (exit 1) with nothing visible; the rerun loads it whole', async () => {
    const other = join(dir, 'other.csv');
    await generate(other, ROWS, 'DROP');
    const running = runLoad(db, ['--jobs', '1', other]);
    const pids = await copyInProgress();
    await db.pool.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [pids]);
    const run = await running;
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^load: ${other}: lost the database connection during COPY`, 'm'));
    const failed = (await loads(db)).filter((l) => l.source === other);
    expect(failed.map((l) => l.status)).toEqual(['failed']);
    expect(await visibleRows(other)).toBe(0);

    const rerun = await runLoad(db, ['--json', other]);
    expect(rerun.code).toBe(0);
    const result = JSON.parse(rerun.stdout).results[0];
    expect(result).toMatchObject({ status: 'loaded', rowsStaged: ROWS });
    await expectWhole(result.loadId, ROWS);
  });

  it('two processes started at once on the same large file (hashed while it loads) stage it once', async () => {
    const twin = join(dir, 'twin.csv');
    await generate(twin, ROWS, 'TWIN');
    const [a, b] = await Promise.all([runLoad(db, ['--json', twin]), runLoad(db, ['--json', twin])]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const results = [JSON.parse(a.stdout).results[0], JSON.parse(b.stdout).results[0]];
    expect(results.map((r) => r.status).sort()).toEqual(['loaded', 'skipped']);
    const winner = results.find((r) => r.status === 'loaded');
    const id = winner.loadId;
    expect([`already loaded as load ${id}`, `being loaded by another process (load ${id})`]).toContain(results.find((r) => r.status === 'skipped').message);
    const twins = (await loads(db)).filter((l) => l.source === twin);
    expect(twins.map((l) => l.status)).toEqual(['complete']);
    await expectWhole(winner.loadId, ROWS);
    const again = await runLoad(db, ['--json', twin]);
    expect(JSON.parse(again.stdout).results[0]).toMatchObject({ status: 'skipped', loadId: winner.loadId });
    expect((await loads(db)).filter((l) => l.source === twin).length).toBe(1);
  });

  it('deletes committed leftovers of an abandoned load before loading the file anew', async () => {
    const path = join(dir, 'small.csv');
    const text = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n1,A,X,1,2011-01-01 10:00:00,1.00,1,UK\n';
    writeFileSync(path, text);
    const sha = createHash('sha256').update(text).digest('hex');
    const { rows } = await db.pool.query<{ load_id: number }>(`insert into meta.loads (source, sha256) values ('small.csv', $1) returning load_id`, [sha]);
    const old = rows[0]!.load_id;
    await db.pool.query(`insert into staging.transactions (load_id, line_no, invoice_no) select $1, g, 'LEFTOVER' from generate_series(2, 4) as g`, [old]);
    await db.pool.query(`insert into staging.load_rejects (load_id, line_no, raw, reason) values ($1, 5, '\\x00', 'nul_byte')`, [old]);
    const run = await runLoad(db, ['--json', path]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout).results[0];
    expect(result).toMatchObject({ status: 'loaded', rowsStaged: 1 });
    const { rows: left } = await db.pool.query(`select count(*) as n from staging.transactions where invoice_no = 'LEFTOVER'`);
    expect(left[0].n).toBe(0);
    expect((await loads(db)).find((l) => l.load_id === old)?.status).toBe('failed');
  });

  it('skips a file another session is loading (its lock is held), then loads it once that session is gone', async () => {
    const path = join(dir, 'busy.csv');
    const text = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n2,B,Y,1,2011-01-01 10:00:00,1.00,1,UK\n';
    writeFileSync(path, text);
    const sha = createHash('sha256').update(text).digest('hex');
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    const { rows } = await holder.query<{ load_id: number }>(`insert into meta.loads (source, sha256) values ('busy.csv', $1) returning load_id`, [sha]);
    const busy = rows[0]!.load_id;
    await holder.query(`select pg_advisory_lock(${0x4c4f4144}, $1::int)`, [busy]);
    const skipped = await runLoad(db, [path]);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toContain(`skipped  ${path}: being loaded by another process (load ${busy})`);
    await holder.end();
    const loaded = await runLoad(db, ['--json', path]);
    expect(JSON.parse(loaded.stdout).results[0]).toMatchObject({ status: 'loaded', rowsStaged: 1 });
  });
});
