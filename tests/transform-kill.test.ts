/**
 * A transform killed in the middle of its transaction (SIGKILL of the process) rolls back whole: core, the
 * summaries and the published views stay as the last complete run left them; the next run marks the killed
 * one failed, processes the same loads incrementally, and ends where a full rebuild of them ends.
 */
import { execFile, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { bundledDataDir, projectRoot } from '../loader/paths.js';
import { runTransform } from '../loader/transform/index.js';
import { freshDatabase, type TestDatabase } from './support/db.js';

const run = promisify(execFile);
const cli = (name: string) => join(projectRoot, 'dist', 'loader', 'cli', `${name}.js`);
const published = [
  'select * from features.customer_features',
  'select * from features.daily_sales',
  'select * from features.product_features',
  'select * from features.customer_cohorts',
  'select load_id, status, rows_staged, rows_quarantined, duplicates, rows_clean from meta.load_summary',
  'select count(*)::int as n, sum(line_amount)::text as amount from core.transactions',
  'select count(*)::int as n from core.duplicates',
  'select * from core.customers',
];

async function snapshot(db: TestDatabase): Promise<string[][]> {
  const out: string[][] = [];
  for (const sql of published) out.push((await db.pool.query(sql)).rows.map((r) => JSON.stringify(r)).sort());
  return out;
}

describe('transform: killed mid-run', () => {
  it('rolls back whole; the next run completes the same loads incrementally, equal to a full rebuild', async () => {
    const db = await freshDatabase();
    const files = (await readdir(bundledDataDir)).filter((f) => f.endsWith('.csv.gz')).sort().map((f) => join(bundledDataDir, f));
    await run(process.execPath, [cli('load'), '--quiet', ...files.slice(0, 60)], { env: db.env });
    await runTransform(db);
    await run(process.execPath, [cli('load'), '--quiet', ...files.slice(60, 100)], { env: db.env });
    const before = await snapshot(db);

    // start a transform and kill it once its transaction has written to core (it holds the row lock that an
    // insert into core.quarantine takes until the transaction ends; nothing else writes there meanwhile)
    const child = spawn(process.execPath, [cli('transform')], { env: db.env, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await db.pool.query<{ n: number }>(
        `select count(*)::int as n from pg_locks
          where pid <> pg_backend_pid() and granted and mode = 'RowExclusiveLock'
            and relation = 'core.quarantine'::regclass
            -- this database's: the copies of one template share their tables' OIDs (tests/support/db.ts)
            and database = (select oid from pg_database where datname = current_database())`,
      );
      if (rows[0]!.n > 0) break;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('the transform ended before it could be killed');
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // nothing of the killed run is visible
    expect(await snapshot(db)).toEqual(before);

    // the next run (it waits for the killed session's lock) marks it failed and processes the 40 loads (fewer than core holds: an incremental run)
    const next = await runTransform(db);
    expect(next).toMatchObject({ full: false, loads: 40 });
    const { rows: runs } = await db.pool.query('select status, is_full, error from meta.transform_runs order by run_id');
    expect(runs.map((r) => r.status)).toEqual(['complete', 'failed', 'complete']);
    expect(runs[1].error).toMatch(/^interrupted/);
    const incremental = await snapshot(db);
    expect(incremental).not.toEqual(before);
    await runTransform(db, { full: true });
    expect(await snapshot(db)).toEqual(incremental);
  }, 300_000);
});
