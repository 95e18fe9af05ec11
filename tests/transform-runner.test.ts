/** The runner: incremental vs full, rebuild triggers, advisory lock, changed definitions, failures, readers, analyst. */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

import { projectRoot, sqlDir } from '../loader/paths.js';
import { TRANSFORM_LOCK_KEY } from '../loader/transform/lock.js';
import { runTransform } from '../loader/transform/index.js';
import { freshDatabase, type TestDatabase } from './support/db.js';
import { row, stageRows } from './support/stage.js';

const run = promisify(execFile);
const cli = join(projectRoot, 'dist', 'loader', 'cli', 'transform.js');
const views = ['features.customer_features', 'features.daily_sales', 'features.product_features', 'features.customer_cohorts'];
const temps: string[] = [];
afterAll(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

/** every row of core and of the features, as sorted JSON (equal iff `except` is empty both ways) */
async function snapshot(db: TestDatabase, withLoadIds = true): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const coreCols = `${withLoadIds ? 'load_id, line_no, ' : ''}invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country, line_amount, line_kind`;
  for (const [name, sql] of [
    ['core.transactions', `select ${coreCols} from core.transactions`],
    ['core.quarantine', 'select * from core.quarantine'],
    ...views.map((v) => [v, `select * from ${v}`]),
  ] as const) {
    const { rows } = await db.pool.query(sql);
    out[name] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

async function copySqlDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'transform-sql-'));
  temps.push(dir);
  await cp(sqlDir, join(dir, 'sql'), { recursive: true });
  return join(dir, 'sql');
}

const sales = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => row({ invoice_no: `${prefix}${i % 7}`, stock_code: `P${i % 13}`, quantity: String(1 + (i % 5)), customer_id: String(12000 + (i % 11)), invoice_date: `2011-0${1 + (i % 9)}-1${i % 10} 10:00` }));

describe('transform runner', () => {
  it('incremental runs give the same tables as --full; nothing new changes nothing', async () => {
    const db = await freshDatabase();
    await stageRows(db.pool, sales(40, '1'));
    const r1 = await runTransform(db);
    expect(r1).toMatchObject({ full: true, fullReason: 'first transform (core is empty)', loads: 1, rowsStaged: 40 });
    await stageRows(db.pool, [...sales(30, '2'), ...sales(5, '1')]); // 5 duplicates of load 1
    const r2 = await runTransform(db);
    expect(r2).toMatchObject({ full: false, loads: 1, rowsStaged: 35, rowsDuplicate: 5 });
    const incremental = await snapshot(db);
    const r3 = await runTransform(db);
    expect(r3).toMatchObject({ loads: 0, rowsStaged: 0 });
    expect(r3.files.filter((f) => f.action !== 'run' && f.action !== 'skip')).toEqual([]);
    const r4 = await runTransform(db, { full: true });
    expect(r4).toMatchObject({ full: true, fullReason: 'requested (--full)', loads: 2, rowsStaged: 75 });
    expect(await snapshot(db)).toEqual(incremental);
    const { rows } = await db.pool.query(`select run_id::int, status, is_full, loads_processed, rows_processed::int, jsonb_array_length(files) as files from meta.transform_runs order by run_id`);
    expect(rows.map((r) => [r.status, r.is_full, r.loads_processed, r.rows_processed])).toEqual([
      ['complete', true, 1, 40], ['complete', false, 1, 35], ['complete', false, 0, 0], ['complete', true, 2, 75],
    ]);
  });

  it('corrects core without a rebuild when an earlier load completes late, or a processed load is replaced', async () => {
    const db = await freshDatabase();
    const late = await stageRows(db.pool, sales(10, '3'), { status: 'running' });
    const a = await stageRows(db.pool, sales(20, '3')); // its first 10 rows equal the running load's
    await runTransform(db);
    // the running load completes: it was loaded first, so its rows take over and load a's become duplicates
    await db.pool.query(`update meta.loads set status = 'complete', finished_at = now() where load_id = $1`, [late]);
    const r = await runTransform(db);
    expect(r).toMatchObject({ full: false, loads: 1, rowsClean: 10, rowsDuplicate: 0 });
    const counts = async () => (await db.pool.query('select load_id::int, count(*)::int as n from core.transactions group by 1 order by 1')).rows;
    const accounting = async () =>
      (await db.pool.query('select load_id::int, rows_clean::int, rows_duplicate::int from meta.transform_loads order by 1')).rows;
    expect(await counts()).toEqual([{ load_id: late, n: 10 }, { load_id: a, n: 10 }]);
    expect(await accounting()).toEqual([{ load_id: late, rows_clean: 10, rows_duplicate: 0 }, { load_id: a, rows_clean: 10, rows_duplicate: 10 }]);
    // `load --force` replaces load a: the old load fails, its rows go, a new complete load holds them
    await db.pool.query(`update meta.loads set status = 'failed', error = 'replaced' where load_id = $1`, [a]);
    await db.pool.query('delete from staging.transactions where load_id = $1', [a]);
    const b = await stageRows(db.pool, sales(20, '3'));
    expect(await runTransform(db)).toMatchObject({ full: false, loads: 1 });
    expect(await counts()).toEqual([{ load_id: late, n: 10 }, { load_id: b, n: 10 }]);
    expect(await accounting()).toEqual([{ load_id: late, rows_clean: 10, rows_duplicate: 0 }, { load_id: b, rows_clean: 10, rows_duplicate: 10 }]);
    // the kept load leaves: its copies in load b take over
    await db.pool.query(`update meta.loads set status = 'failed', error = 'replaced' where load_id = $1`, [late]);
    expect(await runTransform(db)).toMatchObject({ full: false, loads: 0 });
    expect(await counts()).toEqual([{ load_id: b, n: 20 }]);
    expect(await accounting()).toEqual([{ load_id: b, rows_clean: 20, rows_duplicate: 0 }]);
    const incremental = await snapshot(db);
    await runTransform(db, { full: true });
    expect(await snapshot(db)).toEqual(incremental);
  });

  it('one transform at a time: --no-wait exits 3 with a busy message; otherwise it waits and says so', async () => {
    const db = await freshDatabase();
    await stageRows(db.pool, sales(5, '4'));
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('select pg_advisory_lock($1::bigint)', [TRANSFORM_LOCK_KEY]);
      const busy = await run(process.execPath, [cli, '--no-wait'], { env: db.env }).catch((e: { code: number; stderr: string }) => e);
      expect(busy).toMatchObject({ code: 3 });
      expect((busy as { stderr: string }).stderr).toMatch(/^transform: busy: another transform is running/);
      const lines: string[] = [];
      const waiting = runTransform(db, { log: (l) => lines.push(l) });
      while (!lines.some((l) => l.includes('waiting'))) await new Promise((r) => setTimeout(r, 20));
      await holder.query('select pg_advisory_unlock($1::bigint)', [TRANSFORM_LOCK_KEY]);
      expect(await waiting).toMatchObject({ loads: 1 });
    } finally {
      await holder.end();
    }
  });

  it('a changed file rebuilds its object and its dependents by itself; a broken one fails with a caret and changes nothing', async () => {
    const db = await freshDatabase();
    const dir = await copySqlDir();
    const dependent = join(dir, '900_features.recent_days.sql');
    await writeFile(dependent, 'create view features.recent_days as\nselect day, orders from features.daily_sales where day > date \'2011-01-01\';\n');
    await stageRows(db.pool, sales(30, '5'));
    await runTransform(db, { sqlDir: dir });
    const daily = join(dir, '110_features.daily_sales.sql');
    const original = await readFile(daily, 'utf8');
    await writeFile(daily, original.replace('days.customers\n', 'days.customers,\n        1 as version\n'));
    const r = await runTransform(db, { sqlDir: dir });
    const actions = Object.fromEntries(r.files.map((f) => [f.file.replace(/^sql\//, ''), f.action]));
    expect(actions).toMatchObject({ '110_features.daily_sales.sql': 'create', '900_features.recent_days.sql': 'create', '100_features.customer_features.sql': 'skip' });
    expect((await db.pool.query('select version from features.daily_sales limit 1')).rows[0]).toEqual({ version: 1 });
    expect((await db.pool.query('select count(*)::int as n from features.recent_days')).rows[0].n).toBeGreaterThan(0);

    // broken: a misspelt column, while a new load waits
    const before = await snapshot(db);
    await stageRows(db.pool, sales(10, '6'));
    await writeFile(daily, original.replace('days.orders,\n        days.units', 'days.orders,\n        days.unitz'));
    const err = await runTransform(db, { sqlDir: dir }).catch((e: Error & { exitCode?: number }) => e);
    expect(err).toBeInstanceOf(Error);
    const lines = (err as Error).message.split('\n');
    const lineNo = original.split('\n').findIndex((l) => l.includes('days.units')) + 1;
    const column = original.split('\n')[lineNo - 1]!.indexOf('days.units') + 1;
    expect(lines[0]).toBe(`sql/110_features.daily_sales.sql:${lineNo}:${column}: column days.unitz does not exist (SQLSTATE 42703)`);
    const at = lines.findIndex((l, i) => i > 0 && l.includes('days.unitz'));
    expect(lines[at]).toMatch(new RegExp(`^${lineNo} \\| `));
    expect(lines[at + 1]!.indexOf('^')).toBe(lines[at]!.indexOf('days.unitz'));
    expect(await snapshot(db)).toEqual(before);
    const { rows } = await db.pool.query(`select status, error from meta.transform_runs order by run_id desc limit 1`);
    expect(rows[0].status).toBe('failed');
    expect(rows[0].error).toContain('sql/110_features.daily_sales.sql');

    // the CLI prints the same, exits 1; after the fix the rerun completes
    const cliErr = await run(process.execPath, [cli, '--sql-dir', dir], { env: db.env }).catch((e: { code: number; stderr: string }) => e);
    expect(cliErr).toMatchObject({ code: 1 });
    expect((cliErr as { stderr: string }).stderr).toContain(`transform: sql/110_features.daily_sales.sql:${lineNo}:${column}: column days.unitz does not exist`);
    await writeFile(daily, original);
    expect(await runTransform(db, { sqlDir: dir })).toMatchObject({ loads: 1, rowsStaged: 10 });
  });

  it('a copy of sql/ under another folder name (--sql-dir) keeps every object its files define, and so does going back', async () => {
    const db = await freshDatabase();
    await stageRows(db.pool, sales(30, '9'));
    await runTransform(db);
    const copy = join(await mkdtemp(join(tmpdir(), 'retail-defs-')), 'definitions');
    await cp(sqlDir, copy, { recursive: true });
    const views = `select count(*)::int as n from pg_matviews where schemaname = 'features'`;
    const expected = (await db.pool.query(views)).rows[0].n;
    expect(expected).toBe(4);
    const lines: string[] = [];
    await runTransform(db, { sqlDir: copy, log: (l) => lines.push(l) });
    expect((await db.pool.query(views)).rows[0].n).toBe(expected);
    expect(lines).toContain('sql/120_features.product_features.sql: no longer read; features.product_features is defined by another file now');
    expect((await db.pool.query('select count(*)::int as n from features.product_features')).rows[0].n).toBeGreaterThan(0);
    await runTransform(db);
    expect((await db.pool.query(views)).rows[0].n).toBe(expected);
    expect((await db.pool.query('select count(*)::int as n from features.daily_sales')).rows[0].n).toBeGreaterThan(0);
  });

  it('readers of a feature view are never blocked and never see it missing or empty while a transform runs', async () => {
    const db = await freshDatabase();
    await stageRows(db.pool, sales(200, '7'));
    await runTransform(db);
    for (let i = 0; i < 5; i++) await stageRows(db.pool, sales(400, `8${i}`));
    const reader = new pg.Client({ connectionString: db.url });
    await reader.connect();
    await reader.query(`set statement_timeout = '1s'`); // blocked for more than a second = an error
    const counts: number[] = [];
    const errors: unknown[] = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        try {
          counts.push((await reader.query('select count(*)::int as n from features.customer_features')).rows[0].n);
        } catch (e) {
          errors.push(e);
        }
      }
    })();
    try {
      await runTransform(db);
      await runTransform(db, { full: true });
    } finally {
      running = false;
      await loop;
      await reader.end();
    }
    expect(errors).toEqual([]);
    expect(counts.length).toBeGreaterThan(1);
    expect(Math.min(...counts)).toBeGreaterThan(0);
  });

  it('transformer can run it (also --full); analyst can read every feature view and meta.load_summary, nothing else', async () => {
    const db = await freshDatabase();
    await stageRows(db.pool, sales(20, '9'));
    const asTransformer = new pg.Pool({ connectionString: db.url, max: 2 });
    asTransformer.on('connect', (c) => void c.query('set role transformer'));
    try {
      await runTransform({ pool: asTransformer });
      // transformer owns core (migrations/1700000009000_one-owner): its full rebuild takes the bulk path
      expect(await runTransform({ pool: asTransformer }, { full: true })).toMatchObject({ full: true, rowsClean: 20 });
    } finally {
      await asTransformer.end();
    }
    const c = await db.pool.connect();
    const asAnalyst = async (sql: string) => {
      await c.query('begin');
      try {
        await c.query('set local role analyst');
        return await c.query(sql);
      } finally {
        await c.query('rollback');
      }
    };
    try {
      for (const v of [...views, 'meta.load_summary']) expect((await asAnalyst(`select count(*)::int as n from ${v}`)).rows[0].n).toBeGreaterThan(0);
      for (const sql of [
        'select 1 from core.transactions', 'select 1 from core.quarantine', 'select 1 from staging.transactions', 'select 1 from meta.loads',
        'select 1 from meta.transform_runs', 'select 1 from meta.transform_loads', 'delete from features.daily_sales',
        'refresh materialized view features.daily_sales', 'create table features.mine (x int)', 'create table meta.mine (x int)',
      ]) {
        await expect(asAnalyst(sql), sql).rejects.toMatchObject({ code: expect.stringMatching(/^(42501|42809)$/) });
      }
    } finally {
      c.release();
    }
  });
});
