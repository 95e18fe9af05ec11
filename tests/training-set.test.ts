/**
 * Contract §4b on the bundled dataset: features.training_set(c, h) has, for every cutoff tried, exactly the
 * rows of customer_features in a second database loaded only with the bundled days before c; changing or
 * deleting every line on or after c changes no feature column; the labels equal a computation written
 * here from the raw lines of the window; unreasonable arguments are one clear error.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';

import { bundledDataDir, projectRoot } from '../loader/paths.js';
import { runTransform } from '../loader/transform/index.js';
import { freshDatabase, type TestDatabase } from './support/db.js';

const run = promisify(execFile);
const loadCli = join(projectRoot, 'dist', 'loader', 'cli', 'load.js');

/** the columns of features.customer_features (contract §4) */
const FEATURES = ['customer_id', 'country', 'first_purchase_at', 'last_purchase_at', 'recency_days', 'tenure_days', 'frequency', 'monetary',
  'avg_order_value', 'units', 'distinct_products', 'returns_value', 'return_rate', 'r_score', 'f_score', 'm_score'];
const LABELS = ['label_purchased', 'label_frequency', 'label_monetary', 'label_returns_value'];
/** cutoffs whose day before has a bundled file (so the second database's as_of_date is the cutoff) */
const CUTOFFS = ['2011-01-05', '2011-04-01', '2011-06-01', '2011-09-01'];
const HORIZON = 90;

async function load(db: TestDatabase, sources: string[]): Promise<void> {
  await run(process.execPath, [loadCli, '--quiet', ...sources], { env: db.env, maxBuffer: 1 << 24 });
}

/** rows as exact JSON text (jsonb renders numerics and timestamps as the server does), in customer order */
async function rows(q: pg.Pool | pg.ClientBase, from: string, columns: string[], params: unknown[] = []): Promise<string[]> {
  const sql = `select to_jsonb(t)::text as j from (select ${columns.join(', ')} from ${from}) as t order by t.customer_id`;
  return (await q.query<{ j: string }>(sql, params)).rows.map((r) => r.j);
}

const dayBefore = (iso: string) => new Date(Date.parse(`${iso}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

let full: TestDatabase;
let files: string[];

beforeAll(async () => {
  files = (await readdir(bundledDataDir)).filter((f) => f.endsWith('.csv.gz')).sort();
  // the bundled dataset loaded and transformed (a copy of the run's template: tests/support/db.ts)
  full = await freshDatabase({ bundled: true });
}, 300_000);

describe('training_set: leakage-free by construction', () => {
  it('equals customer_features of a database holding only the days before each cutoff', async () => {
    const partial = await freshDatabase();
    let loaded = 0;
    for (const cutoff of CUTOFFS) {
      expect(existsSync(join(bundledDataDir, `${dayBefore(cutoff)}.csv.gz`)), `a bundled file for the day before ${cutoff}`).toBe(true);
      const upTo = files.filter((f) => f.slice(0, 10) < cutoff);
      await load(partial, upTo.slice(loaded).map((f) => join(bundledDataDir, f)));
      loaded = upTo.length;
      await runTransform(partial);
      // the second database holds exactly the full one's lines before the cutoff
      const count = async (db: TestDatabase, where: string) => (await db.pool.query<{ n: number }>(`select count(*)::int as n from core.transactions where ${where}`, [cutoff])).rows[0]!.n;
      expect(await count(partial, 'invoice_date >= $1::date')).toBe(0);
      expect(await count(partial, 'invoice_date < $1::date')).toBe(await count(full, 'invoice_date < $1::date'));

      const expected = await rows(partial.pool, 'features.customer_features', FEATURES);
      const actual = await rows(full.pool, 'features.training_set($1::date, $2::integer)', FEATURES, [cutoff, HORIZON]);
      expect(actual.length, cutoff).toBeGreaterThan(0);
      expect(actual, `cutoff ${cutoff}`).toEqual(expected);
      const { rows: dates } = await full.pool.query(`select distinct cutoff_date::text as d from features.training_set($1::date, $2::integer)`, [cutoff, HORIZON]);
      expect(dates).toEqual([{ d: cutoff }]);
    }
  }, 600_000);

  it('no feature column changes when every line on or after the cutoff is changed, or deleted', async () => {
    for (const cutoff of ['2011-04-01', '2011-09-01']) {
      const before = await rows(full.pool, 'features.training_set($1::date, $2::integer)', FEATURES, [cutoff, HORIZON]);
      const c = await full.pool.connect();
      try {
        await c.query('begin');
        // core's secondary indexes go first, inside the transaction (rolled back below): the update then writes
        // no entries to them (half of its time, or more); the unique keys stay, and no query result depends on an index
        await c.query(`do $$ declare i regclass; begin
                         for i in select indexrelid::regclass from pg_index where indrelid = 'core.transactions'::regclass and not indisunique loop
                           execute format('drop index %s', i);
                         end loop;
                       end $$`);
        // every value of every later line changes (kept distinct, so the dedup key still holds), dates moved later
        const changed = await c.query(
          `update core.transactions
              set invoice_no = invoice_no || 'x', stock_code = stock_code || 'x', quantity = quantity + 7,
                  line_amount = (quantity + 7) * (unit_price + 1), unit_price = unit_price + 1,
                  customer_id = customer_id + 1, country = country || ' (later)', invoice_date = invoice_date + interval '1 day',
                  line_kind = case line_kind when 'sale' then 'cancellation' else 'sale' end
            where invoice_date >= $1::date`,
          [cutoff],
        );
        expect(changed.rowCount).toBeGreaterThan(1000);
        expect(await rows(c, 'features.training_set($1::date, $2::integer)', FEATURES, [cutoff, HORIZON])).toEqual(before);
        await c.query('delete from core.transactions where invoice_date >= $1::date', [cutoff]);
        expect(await rows(c, 'features.training_set($1::date, $2::integer)', FEATURES, [cutoff, HORIZON])).toEqual(before);
        // nothing after the cutoff is observed any more: the labels are NULL, not zero
        const { rows: labels } = await c.query(`select count(*)::int as n, count(label_purchased)::int as with_label from features.training_set($1::date, $2::integer)`, [cutoff, HORIZON]);
        expect(labels).toEqual([{ n: before.length, with_label: 0 }]);
      } finally {
        await c.query('rollback');
        c.release();
      }
    }
  }, 120_000);
});

/** decimal text → bigint at 6 decimals (the data has at most 3 in unit_price) */
function micros(text: string): bigint {
  const [int, frac = ''] = text.replace('-', '').split('.');
  if (frac.length > 6) throw new Error(`unexpected precision: ${text}`);
  return BigInt(int! + frac.padEnd(6, '0')) * (text.startsWith('-') ? -1n : 1n);
}

/** bigint at 6 decimals → text at 2 decimals, rounded half away from zero */
function money(v: bigint): string {
  const neg = v < 0n;
  const cents = ((neg ? -v : v) + 5_000n) / 10_000n;
  const s = cents.toString().padStart(3, '0');
  return `${neg && cents ? '-' : ''}${s.slice(0, -2)}.${s.slice(-2)}`;
}

describe('training_set: labels', () => {
  it('equal a computation from the raw lines of the window', async () => {
    const { rows: lines } = await full.pool.query<{ customer_id: number; invoice_no: string; line_kind: string; amount: string; at: string }>(
      `select customer_id, invoice_no, line_kind, line_amount::text as amount, to_char(invoice_date, 'YYYY-MM-DD HH24:MI:SS') as at
         from core.transactions where customer_id is not null`,
    );
    for (const [cutoff, horizon] of [['2011-06-01', 30], ['2011-09-01', 90]] as const) {
      const end = new Date(Date.parse(`${cutoff}T00:00:00Z`) + horizon * 86_400_000).toISOString().slice(0, 10);
      const before = new Set<number>();
      const window = new Map<number, { invoices: Set<string>; sales: bigint; returns: bigint }>();
      for (const l of lines) {
        const day = l.at.slice(0, 10);
        if (day < cutoff) {
          if (l.line_kind === 'sale') before.add(l.customer_id);
        } else if (day < end) {
          const w = window.get(l.customer_id) ?? { invoices: new Set(), sales: 0n, returns: 0n };
          window.set(l.customer_id, w);
          if (l.line_kind === 'sale') (w.invoices.add(l.invoice_no), (w.sales += micros(l.amount)));
          if (l.line_kind === 'cancellation') w.returns -= micros(l.amount);
        }
      }
      const expected = [...before].sort((a, b) => a - b).map((id) => {
        const w = window.get(id);
        return { customer_id: id, label_purchased: (w?.invoices.size ?? 0) > 0, label_frequency: w?.invoices.size ?? 0, label_monetary: money(w?.sales ?? 0n), label_returns_value: money(w?.returns ?? 0n) };
      });
      const { rows: actual } = await full.pool.query(
        `select customer_id, label_purchased, label_frequency::int as label_frequency, label_monetary::text as label_monetary,
                label_returns_value::text as label_returns_value
           from features.training_set($1::date, $2::integer) order by customer_id`,
        [cutoff, horizon],
      );
      expect(actual.length).toBe(expected.length);
      expect(actual.filter((r) => r.label_purchased).length, 'some customers buy in the window').toBeGreaterThan(100);
      expect(actual.filter((r) => r.label_returns_value !== '0.00').length, 'some return in the window').toBeGreaterThan(10);
      expect(actual).toEqual(expected);
    }
  }, 120_000);

  it('are NULL, never partial, when the window runs past the data (as_of_date 2011-12-10)', async () => {
    const labels = async (cutoff: string, horizon: number) =>
      (await full.pool.query(`select count(*)::int as n, count(label_purchased)::int as purchased, count(label_frequency)::int as frequency,
                                     count(label_monetary)::int as monetary, count(label_returns_value)::int as returns
                                from features.training_set($1::date, $2::integer)`, [cutoff, horizon])).rows[0];
    const observed = await labels('2011-11-01', 39); // window ends on 2011-12-10, the as_of_date: wholly observed
    expect(observed.n).toBeGreaterThan(0);
    expect(observed).toEqual({ n: observed.n, purchased: observed.n, frequency: observed.n, monetary: observed.n, returns: observed.n });
    expect(await labels('2011-11-01', 40)).toEqual({ n: observed.n, purchased: 0, frequency: 0, monetary: 0, returns: 0 });
    expect(await labels('2011-12-10', 1)).toMatchObject({ purchased: 0 }); // scoring today: features, no labels
    expect(await labels('2011-11-01', 2_147_483_647)).toMatchObject({ purchased: 0 }); // no date overflow
  });
});

describe('training_set: arguments and rights', () => {
  const error = async (sql: string) => {
    try {
      await full.pool.query(sql);
      return 'no error';
    } catch (err) {
      const e = err as { code: string; message: string };
      return `${e.code} ${e.message}`;
    }
  };

  it('refuses an unreasonable argument with one clear error', async () => {
    expect(await error(`select * from features.training_set('2011-09-01', 0)`)).toBe('22023 training_set: horizon_days must be a whole number of days >= 1 (got 0)');
    expect(await error(`select * from features.training_set('2011-09-01', -5)`)).toMatch(/^22023 .*horizon_days.*-5/);
    expect(await error(`select * from features.training_set('2010-12-01', 30)`)).toBe('22023 training_set: no customer sale line before cutoff 2010-12-01 (the first is on 2010-12-01)');
    expect(await error(`select * from features.training_set('2011-12-11', 30)`)).toBe(`22023 training_set: cutoff 2011-12-11 is after the data's as_of_date 2011-12-10 (the days between are not observed)`);
    expect(await error(`select * from features.training_set(null, 30)`)).toMatch(/^22004 /);
    expect(await error(`select count(*) from features.training_set('2010-12-02', 1)`)).toBe('no error'); // the first day is history
  });

  it('an empty core is the same clear error', async () => {
    const empty = await freshDatabase();
    await runTransform(empty);
    await expect(empty.pool.query(`select * from features.training_set('2011-09-01', 30)`)).rejects.toMatchObject({
      code: '22023', message: 'training_set: no customer sale line before cutoff 2011-09-01 (core.transactions holds none)',
    });
  });

  it('analyst may run it without reading core; public may not', async () => {
    const c = await full.pool.connect();
    try {
      await c.query('begin');
      await c.query('set local role analyst');
      const { rows: r } = await c.query(`select count(*)::int as n from features.training_set('2011-09-01', 90)`);
      expect(r[0].n).toBeGreaterThan(0);
      await c.query('savepoint s');
      await expect(c.query('select 1 from core.transactions limit 1')).rejects.toMatchObject({ code: '42501' });
      await c.query('rollback to savepoint s');
      const { rows: grants } = await c.query(`select has_function_privilege('public', 'features.training_set(date, integer)', 'execute') as public,
                                                     has_function_privilege('analyst', 'features.training_set(date, integer)', 'execute') as analyst`);
      expect(grants).toEqual([{ public: false, analyst: true }]);
      const { rows: comment } = await c.query(`select obj_description('features.training_set(date, integer)'::regprocedure, 'pg_proc') as text`);
      for (const column of ['cutoff_date', ...FEATURES, ...LABELS]) expect(comment[0].text, column).toContain(column);
    } finally {
      await c.query('rollback');
      c.release();
    }
  });
});
