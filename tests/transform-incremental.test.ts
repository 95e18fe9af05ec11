/**
 * Incremental = full (issue 9): the bundled days split at random into batches and loaded in a random order,
 * a transform after each batch; then a `load --force` of a day already transformed, then an earlier load that
 * completes late (its copies take over from a later load's). After every run, every published row equals a
 * full rebuild's of the same loads (a second database, loaded the same way, rebuilt with --full), and at the
 * end contract §5's figures hold. No run but the first is full.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';

import { afterAll, describe, expect, it } from 'vitest';

import { bundledDataDir, projectRoot } from '../loader/paths.js';
import { runTransform } from '../loader/transform/index.js';
import { freshDatabase, type TestDatabase } from './support/db.js';
import { createServiceLogins, poolAs } from './support/services.js';

const run = promisify(execFile);
const loadCli = join(projectRoot, 'dist', 'loader', 'cli', 'load.js');
const published = [
  'select * from features.customer_features',
  'select * from features.daily_sales',
  'select * from features.product_features',
  'select * from features.customer_cohorts',
  // load ids are the same in both databases (the same loads in the same order: --jobs 1)
  `select load_id, source, status, rows_read, rows_rejected, rows_staged, rows_quarantined, quarantined_missing_invoice_no,
          quarantined_missing_stock_code, quarantined_bad_quantity, quarantined_bad_unit_price, quarantined_bad_invoice_date,
          quarantined_bad_customer_id, duplicates, rows_clean from meta.load_summary`,
];
const temps: string[] = [];
afterAll(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

/** a small seeded PRNG (mulberry32): the same seed, the same splits */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function load(dbs: TestDatabase[], sources: string[], force = false): Promise<void> {
  for (const db of dbs) await run(process.execPath, [loadCli, '--quiet', '--jobs', '1', ...(force ? ['--force'] : []), ...sources], { env: db.env, maxBuffer: 1 << 24 });
}

async function rows(db: TestDatabase, sql: string): Promise<string[]> {
  return (await db.pool.query(sql)).rows.map((r) => JSON.stringify(r)).sort();
}

/** every published row of a, compared with b's, `except` both ways (as sorted lists) */
async function expectSamePublished(a: TestDatabase, b: TestDatabase, when: string): Promise<void> {
  for (const sql of published) {
    const [x, y] = [await rows(a, sql), await rows(b, sql)];
    expect(x.filter((r) => !y.includes(r)), `${when}: ${sql}: rows only in the incremental database`).toEqual([]);
    expect(y.filter((r) => !x.includes(r)), `${when}: ${sql}: rows only in the full rebuild`).toEqual([]);
    expect(x.length, `${when}: ${sql}`).toBe(y.length);
  }
}

describe('transform: incremental runs equal a full rebuild', () => {
  const seed = Number(process.env.TRANSFORM_TEST_SEED ?? 20261201);

  it(`random batches (seed ${seed}), a replaced day, a late load: every run equals --full, and §5 holds`, async () => {
    const rnd = random(seed);
    // the incremental database is transformed by the service login (as deployed: docker/service-roles.sh
    // after migrate as the superuser), the reference by the superuser
    const incremental = await freshDatabase();
    const reference = await freshDatabase();
    const svc = poolAs(incremental, createServiceLogins(incremental).transformer);
    const both = [incremental, reference];
    const files = (await readdir(bundledDataDir)).filter((f) => f.endsWith('.csv.gz')).map((f) => join(bundledDataDir, f));
    for (let i = files.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [files[i], files[j]] = [files[j]!, files[i]!];
    }
    // the late load: a copy of 200 lines of one day, loaded first (the smallest load_id) but complete only at the end
    const dir = await mkdtemp(join(tmpdir(), 'transform-incremental-'));
    temps.push(dir);
    const lateDay = files[Math.floor(rnd() * files.length)]!;
    const lines = gunzipSync(readFileSync(lateDay)).toString('utf8').split('\n');
    const lateFile = join(dir, 'late.csv');
    await writeFile(lateFile, `${lines.slice(0, 201).join('\n')}\n`);
    await load(both, [lateFile]);
    // hidden as failed meanwhile (a running load without its loader would be cleaned by the next load)
    for (const db of both) await db.pool.query(`update meta.loads set status = 'failed' where source = $1`, [lateFile]);

    // three batches of random sizes (each followed by a full rebuild of the reference: the cost of this test)
    const cuts = new Set<number>();
    const batches = 3;
    while (cuts.size < batches - 1) cuts.add(1 + Math.floor(rnd() * (files.length - 1)));
    const bounds = [0, ...[...cuts].sort((x, y) => x - y), files.length];
    for (let k = 0; k + 1 < bounds.length; k++) {
      await load(both, files.slice(bounds[k], bounds[k + 1]));
      // (a batch larger than core would rebuild by default: this test is of the incremental path)
      await runTransform({ pool: svc }, { preferIncremental: true });
      await runTransform(reference, { full: true });
      await expectSamePublished(incremental, reference, `batch ${k + 1} of ${batches}`);
    }

    // a day already transformed, loaded again with --force (the old load fails, its rows leave core)
    await load(both, [files[Math.floor(rnd() * files.length)]!], true);
    expect(await runTransform({ pool: svc })).toMatchObject({ full: false, loads: 1 });
    await runTransform(reference, { full: true });
    await expectSamePublished(incremental, reference, 'after load --force');

    // the late load completes: its 200 lines take over from the later load of the same day
    for (const db of both) await db.pool.query(`update meta.loads set status = 'complete' where source = $1`, [lateFile]);
    const late = await runTransform({ pool: svc });
    expect(late).toMatchObject({ full: false, loads: 1, rowsStaged: 200 });
    expect(late.rowsClean).toBeGreaterThan(190); // a few of the 200 may be duplicates within the day itself
    await runTransform(reference, { full: true });
    await expectSamePublished(incremental, reference, 'after the late load');

    // no run but the first is full
    const { rows: runs } = await incremental.pool.query('select run_id, is_full from meta.transform_runs order by run_id');
    expect(runs.map((r) => r.is_full)).toEqual([true, ...runs.slice(1).map(() => false)]);

    // contract §5 (the late copies are duplicates of lines of the day they were cut from)
    const q = async (sql: string) => (await incremental.pool.query(sql)).rows[0];
    expect(await q('select count(*)::int as n from core.transactions')).toEqual({ n: 536641 });
    expect(await q(`select sum(gross_revenue)::text as gross, sum(returns_value)::text as returns from features.daily_sales`)).toEqual({ gross: '10247219.32', returns: '893979.73' });
    expect(await q('select count(*)::int as n from features.customer_features')).toEqual({ n: 4334 });
    expect(await q(`select max(last_purchase_at::date + recency_days)::text as as_of from features.customer_features`)).toEqual({ as_of: '2011-12-10' });
    // every staged line is clean or a duplicate; the 200 late copies replace lines, they add none
    expect(await q(`select sum(rows_staged)::int as staged, sum(rows_clean)::int as clean, sum(duplicates)::int as duplicates,
                           sum(rows_quarantined)::int as quarantined from meta.load_summary where status = 'complete'`)).toEqual({
      staged: 541909 + 200, clean: 536641, duplicates: 5268 + 200, quarantined: 0,
    });
    await svc.end();
  }, 600_000);
});
