/**
 * Contract §5: the bundled Online Retail dataset, loaded by the real loader and transformed, gives the
 * published reference figures exactly (the database is a copy of the run's bundled template: the loader CLI
 * and runTransform on every bundled file, tests/support/db.ts). That the 305 files loaded in another order
 * and in several runs give identical feature views is checked at the end of transform-incremental.test.ts
 * (the days in a seeded random order, in five runs, against this same template).
 */
import { describe, expect, it } from 'vitest';

import { freshDatabase } from './support/db.js';

describe('transform: the bundled dataset', () => {
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
  }, 300_000);
});
