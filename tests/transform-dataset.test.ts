/**
 * Contract §5: the bundled Online Retail dataset, loaded by the real loader and transformed, gives the
 * published reference figures exactly (the database is a copy of the run's bundled template: the loader CLI
 * and runTransform on every bundled file, tests/support/db.ts); loading the 305 files in another order and in several runs, with a
 * transform after each run, gives identical feature views.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { bundledDataDir, projectRoot } from '../loader/paths.js';
import { runTransform } from '../loader/transform/index.js';
import { freshDatabase, type TestDatabase } from './support/db.js';

const run = promisify(execFile);
const loadCli = join(projectRoot, 'dist', 'loader', 'cli', 'load.js');
const views = ['features.customer_features', 'features.daily_sales', 'features.product_features', 'features.customer_cohorts'];

async function load(db: TestDatabase, sources: string[]): Promise<void> {
  await run(process.execPath, [loadCli, '--quiet', ...sources], { env: db.env, maxBuffer: 1 << 24 });
}

async function features(db: TestDatabase): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const v of views) out[v] = (await db.pool.query(`select * from ${v}`)).rows.map((r) => JSON.stringify(r)).sort();
  return out;
}

describe('transform: the bundled dataset', () => {
  let reference: Record<string, string[]>;

  it('gives the reference figures of contract §5', async () => {
    const db = await freshDatabase({ bundled: true });
    const { rows: runs } = await db.pool.query('select status, is_full from meta.transform_runs');
    expect(runs).toEqual([{ status: 'complete', is_full: true }]);
    const q = async (sql: string) => (await db.pool.query(sql)).rows[0];
    expect(await q(`select sum(rows_read)::int as read, sum(rows_staged)::int as staged, sum(rows_rejected)::int as rejected,
                           sum(rows_quarantined)::int as quarantined, sum(duplicates)::int as duplicates, sum(rows_clean)::int as clean,
                           count(*)::int as loads, bool_and(rows_staged = rows_clean + rows_quarantined + duplicates) as accounted
                      from meta.load_summary where status = 'complete'`)).toEqual({
      read: 541909, staged: 541909, rejected: 0, quarantined: 0, duplicates: 5268, clean: 536641, loads: 305, accounted: true,
    });
    expect(await q('select count(*)::int as n from core.transactions')).toEqual({ n: 536641 });
    const { rows: kinds } = await db.pool.query('select line_kind, count(*)::int as n from core.transactions group by 1 order by 1');
    expect(kinds).toEqual([
      { line_kind: 'adjustment', n: 2513 }, { line_kind: 'cancellation', n: 9251 }, { line_kind: 'fee', n: 2337 }, { line_kind: 'sale', n: 522540 },
    ]);
    expect(await q(`select sum(gross_revenue)::text as gross, sum(returns_value)::text as returns from features.daily_sales`)).toEqual({ gross: '10247219.32', returns: '893979.73' });
    expect(await q(`select round(sum(line_amount) filter (where line_kind = 'sale'), 2)::text as gross,
                           round(-sum(line_amount) filter (where line_kind = 'cancellation'), 2)::text as returns from core.transactions`)).toEqual({ gross: '10247219.32', returns: '893979.73' });
    expect(await q('select count(*)::int as n from features.customer_features')).toEqual({ n: 4334 });
    // as_of_date: the day after the latest invoice_date; every customer's recency counts from it
    expect(await q(`select to_char(max(invoice_date)::date + 1, 'YYYY-MM-DD') as as_of from core.transactions`)).toEqual({ as_of: '2011-12-10' });
    expect(await q(`select array_agg(distinct to_char(last_purchase_at::date + recency_days, 'YYYY-MM-DD')) as as_of from features.customer_features`)).toEqual({ as_of: ['2011-12-10'] });
    reference = await features(db);
  }, 300_000);

  it('gives identical feature views when the files are loaded in another order, in several runs', async () => {
    const db = await freshDatabase();
    const files = (await readdir(bundledDataDir)).filter((f) => f.endsWith('.csv.gz')).sort().map((f) => join(bundledDataDir, f));
    // run 1: every other file, newest first; run 2: the rest (so load ids no longer follow the dates)
    await load(db, files.filter((_, i) => i % 2 === 1).reverse());
    expect(await runTransform(db)).toMatchObject({ full: true, loads: 152 }); // the first transform fills core in bulk
    await load(db, files.filter((_, i) => i % 2 === 0));
    // (153 loads onto 152 would rebuild by default: a batch larger than core; this checks the incremental path)
    expect(await runTransform(db, { preferIncremental: true })).toMatchObject({ full: false, loads: 153 });
    expect(await features(db)).toEqual(reference);
  }, 300_000);
});
