/** Contract §4 on a hand-written fixture: every expected value below is worked out by hand in the comments. */
import { beforeAll, describe, expect, it } from 'vitest';

import { runTransform } from '../loader/transform/index.js';
import { freshDatabase, type TestDatabase } from './support/db.js';
import { row, stageRows, type StagedRow } from './support/stage.js';

const line = (invoice_no: string, stock_code: string, description: string, quantity: string, unit_price: string, invoice_date: string, customer_id: string | null, country: string): StagedRow =>
  row({ invoice_no, stock_code, description, quantity, unit_price, invoice_date, customer_id, country });

const fixture = [
  line('536365', 'P1', 'RED', '2', '1.005', '2011-01-01 10:00', '100', 'France'), // 2.010
  line('536365', 'P2', 'X', '1', '3.333', '2011-01-01 10:00', '100', 'France'), // 3.333
  line('536400', 'P1', 'RED', '3', '2.50', '2011-01-05 09:00', '100', 'Germany'), // 7.50
  line('C536500', 'P2', 'X', '-1', '3.333', '2011-01-10 08:00', '100', 'Germany'), // cancellation -3.333
  line('537400', 'P1', 'RED', '1', '1.00', '2011-03-15 10:00', '100', 'France'), // latest line: as_of_date 2011-03-16
  line('537000', 'P1', 'BLUE', '1', '1.00', '2011-01-03 12:00', '200', 'Italy'), // same time as the next line:
  line('536999', 'P2', 'Y', '1', '1.00', '2011-01-03 12:00', '200', 'Spain'), //   greatest invoice_no wins → Italy
  line('C537100', 'P1', 'RED', '-2', '1.00', '2011-01-04 11:00', '300', 'United Kingdom'), // 300: only a cancellation
  line('537200', 'P3', 'Z', '1', '2.005', '2011-02-01 00:00', '400', 'United Kingdom'), // half-up: 2.01
  line('537300', 'P1', 'RED', '5', '1.00', '2011-01-05 15:00', null, 'United Kingdom'), // guest sale
];

let db: TestDatabase;

beforeAll(async () => {
  db = await freshDatabase();
  await stageRows(db.pool, fixture);
  await runTransform(db);
});

const select = async (sql: string) => (await db.pool.query(sql)).rows;

describe('transform: contract §4 features on a fixture', () => {
  it('customer_features: one row per customer with a sale, per the contract', async () => {
    const rows = await select(`
      select customer_id, country, to_char(first_purchase_at, 'YYYY-MM-DD HH24:MI') as first_at, to_char(last_purchase_at, 'YYYY-MM-DD HH24:MI') as last_at,
             recency_days, tenure_days, frequency::int, monetary::text, avg_order_value::text, units::int, distinct_products::int,
             returns_value::text, return_rate::text, r_score, f_score, m_score
        from features.customer_features order by customer_id`);
    expect(rows).toEqual([
      // 100: 2.010 + 3.333 + 7.50 + 1.00 = 13.843 over 3 invoices; returns 3.333; 3.333 / 13.843 = 0.24077…
      //      recency 2011-03-16 − 2011-03-15 = 1; tenure 2011-03-16 − 2011-01-01 = 74; latest sale line: France
      { customer_id: 100, country: 'France', first_at: '2011-01-01 10:00', last_at: '2011-03-15 10:00', recency_days: 1, tenure_days: 74, frequency: 3, monetary: '13.84', avg_order_value: '4.61', units: 7, distinct_products: 2, returns_value: '3.33', return_rate: '0.2408', r_score: 3, f_score: 3, m_score: 3 },
      // 200: recency = tenure = 2011-03-16 − 2011-01-03 = 72
      { customer_id: 200, country: 'Italy', first_at: '2011-01-03 12:00', last_at: '2011-01-03 12:00', recency_days: 72, tenure_days: 72, frequency: 2, monetary: '2.00', avg_order_value: '1.00', units: 2, distinct_products: 2, returns_value: '0.00', return_rate: '0.0000', r_score: 1, f_score: 2, m_score: 1 },
      // 400: recency = tenure = 2011-03-16 − 2011-02-01 = 43; 2.005 rounds half-up to 2.01
      { customer_id: 400, country: 'United Kingdom', first_at: '2011-02-01 00:00', last_at: '2011-02-01 00:00', recency_days: 43, tenure_days: 43, frequency: 1, monetary: '2.01', avg_order_value: '2.01', units: 1, distinct_products: 1, returns_value: '0.00', return_rate: '0.0000', r_score: 2, f_score: 1, m_score: 2 },
    ]);
  });

  it('daily_sales: days with a sale or a cancellation', async () => {
    const rows = await select(`select to_char(day, 'YYYY-MM-DD') as day, orders::int, units::int, gross_revenue::text, returns_value::text, customers::int from features.daily_sales order by day`);
    expect(rows).toEqual([
      { day: '2011-01-01', orders: 1, units: 3, gross_revenue: '5.34', returns_value: '0.00', customers: 1 }, // 5.343
      { day: '2011-01-03', orders: 2, units: 2, gross_revenue: '2.00', returns_value: '0.00', customers: 1 },
      { day: '2011-01-04', orders: 0, units: 0, gross_revenue: '0.00', returns_value: '2.00', customers: 0 },
      { day: '2011-01-05', orders: 2, units: 8, gross_revenue: '12.50', returns_value: '0.00', customers: 1 }, // guest not counted
      { day: '2011-01-10', orders: 0, units: 0, gross_revenue: '0.00', returns_value: '3.33', customers: 0 },
      { day: '2011-02-01', orders: 1, units: 1, gross_revenue: '2.01', returns_value: '0.00', customers: 1 },
      { day: '2011-03-15', orders: 1, units: 1, gross_revenue: '1.00', returns_value: '0.00', customers: 1 },
    ]);
  });

  it('product_features: most frequent description (ties: smallest), units, revenue, orders, customers, returns, dates', async () => {
    const rows = await select(`select stock_code, description, units::int, revenue::text, orders::int, customers::int, returned_units::int,
      to_char(first_sale_date, 'YYYY-MM-DD') as first_date, to_char(last_sale_date, 'YYYY-MM-DD') as last_date from features.product_features order by stock_code`);
    expect(rows).toEqual([
      // P1: 2.010 + 7.50 + 1.00 + 1.00 + 5.00; RED ×4 vs BLUE ×1; returned: 2 (cancellation of customer 300)
      { stock_code: 'P1', description: 'RED', units: 12, revenue: '16.51', orders: 5, customers: 2, returned_units: 2, first_date: '2011-01-01', last_date: '2011-03-15' },
      { stock_code: 'P2', description: 'X', units: 2, revenue: '4.33', orders: 2, customers: 2, returned_units: 1, first_date: '2011-01-01', last_date: '2011-01-03' },
      { stock_code: 'P3', description: 'Z', units: 1, revenue: '2.01', orders: 1, customers: 1, returned_units: 0, first_date: '2011-02-01', last_date: '2011-02-01' },
    ]);
  });

  it('customer_cohorts: by first sale month and months since, with retention', async () => {
    const rows = await select(`select to_char(cohort_month, 'YYYY-MM') as cohort, month_number, cohort_size::int, active_customers::int, revenue::text, retention::text
      from features.customer_cohorts order by cohort_month, month_number`);
    expect(rows).toEqual([
      { cohort: '2011-01', month_number: 0, cohort_size: 2, active_customers: 2, revenue: '14.84', retention: '1.0000' }, // 12.843 + 2.00
      { cohort: '2011-01', month_number: 2, cohort_size: 2, active_customers: 1, revenue: '1.00', retention: '0.5000' },
      { cohort: '2011-02', month_number: 0, cohort_size: 1, active_customers: 1, revenue: '2.01', retention: '1.0000' },
    ]);
  });

  it('ntile scores are deterministic: equal customers are split by customer_id, the same on every rebuild', async () => {
    const ties = await freshDatabase();
    const ids = [1007, 1003, 1005, 1001, 1006, 1002, 1004];
    await stageRows(ties.pool, ids.slice(0, 3).map((id) => line(`5${id}`, 'P1', 'RED', '1', '1.00', '2011-01-01 10:00', String(id), 'France')));
    await runTransform(ties);
    await stageRows(ties.pool, ids.slice(3).map((id) => line(`5${id}`, 'P1', 'RED', '1', '1.00', '2011-01-01 10:00', String(id), 'France')));
    await runTransform(ties);
    const scores = async () => (await ties.pool.query('select customer_id, r_score, f_score, m_score from features.customer_features order by customer_id')).rows;
    // ntile(5) over 7 rows: bucket sizes 2, 2, 1, 1, 1 in customer_id order
    const expected = [1, 1, 2, 2, 3, 4, 5].map((s, i) => ({ customer_id: 1001 + i, r_score: s, f_score: s, m_score: s }));
    expect(await scores()).toEqual(expected);
    await runTransform(ties, { full: true });
    expect(await scores()).toEqual(expected);
  });
});
