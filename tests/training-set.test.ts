/**
 * Contract §4b on the bundled dataset: features.training_set(c, h) has, for every cutoff tried, exactly the
 * rows of customer_features in a second database loaded only with the bundled days before c; changing or
 * deleting every line on or after c changes no feature column; the labels equal a computation written
 * here from the raw lines of the window; unreasonable arguments are one clear error. Both read one definition
 * of every feature column, features.customer_features_as_of (sql/090): the view and the function call it and
 * compute no feature themselves, and a changed definition reaches both in the run that applies it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bundledDataDir, projectRoot, sqlDir } from '../loader/paths.js';
import { runTransform } from '../loader/transform/index.js';
import { freshDatabase, type TestDatabase } from './support/db.js';
import { row, stageRows } from './support/stage.js';

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
const temps: string[] = [];
afterAll(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

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
      // one call of the function (each reads core's lines): the feature columns, and the cutoff_date of every row
      const { rows: got } = await full.pool.query<{ j: string; d: string }>(
        `select (to_jsonb(t) - 'cutoff_date')::text as j, t.cutoff_date::text as d
           from (select cutoff_date, ${FEATURES.join(', ')} from features.training_set($1::date, $2::integer)) as t order by t.customer_id`,
        [cutoff, HORIZON],
      );
      const actual = got.map((r) => r.j);
      expect(actual.length, cutoff).toBeGreaterThan(0);
      expect(actual, `cutoff ${cutoff}`).toEqual(expected);
      expect([...new Set(got.map((r) => r.d))]).toEqual([cutoff]);
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
        // the features unchanged, and nothing after the cutoff is observed any more: the labels are NULL, not
        // zero (one call of the function)
        const { rows: deleted } = await c.query<{ j: string; label: boolean | null }>(
          `select to_jsonb(t)::text as j, s.label_purchased as label
             from features.training_set($1::date, $2::integer) as s
             cross join lateral (select ${FEATURES.map((f) => `s.${f}`).join(', ')}) as t
            order by s.customer_id`,
          [cutoff, HORIZON],
        );
        expect(deleted.map((r) => r.j)).toEqual(before);
        expect(deleted.filter((r) => r.label !== null)).toEqual([]);
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

/** the one definition of the feature columns, and its signature */
const SHARED = 'features.customer_features_as_of';
const SHARED_SIGNATURE = `${SHARED}(date, integer[], text[], timestamp[], timestamp[], bigint[], numeric[], bigint[], bigint[], numeric[])`;
/** what only a definition of the feature columns writes: scores, rounding, return_rate, recency and tenure, avg_order_value, "0 when none" */
const FORMULAS = [/ntile\s*\(/i, /round\s*\(/i, /nullif\s*\(/i, /-\s*[a-z_.]*(last|first)_purchase_at/i, /\/\s*[a-z_.]*frequency/i, /coalesce\s*\([a-z_.]*returns_value/i];

describe('training_set: one definition with customer_features', () => {
  it('the view and the function both read features.customer_features_as_of, and neither writes a feature formula itself', async () => {
    // the view depends on the function (pg_depend: a changed definition drops and recreates the view)
    const { rows: deps } = await full.pool.query(
      `select count(*)::int as n
         from pg_depend as d inner join pg_rewrite as r on r.oid = d.objid
        where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_proc'::regclass
          and r.ev_class = 'features.customer_features'::regclass and d.refobjid = $1::regprocedure`,
      [SHARED_SIGNATURE],
    );
    expect(deps).toEqual([{ n: 1 }]);
    // the training set calls it (a plpgsql body records no dependency: its text is what it runs)
    const { rows: src } = await full.pool.query(
      `select pg_get_functiondef('features.training_set(date, integer)'::regprocedure) as training,
              pg_get_viewdef('features.customer_features'::regclass) as view,
              pg_get_functiondef($1::regprocedure) as shared`,
      [SHARED_SIGNATURE],
    );
    expect(src[0].training).toContain(`${SHARED}(`);
    expect(src[0].view).toContain(`${SHARED}(`);
    // the feature formulas are in the shared definition only: the view has none; the training set rounds its
    // labels only (label_monetary, label_returns_value) and writes no score, ratio, recency or tenure
    for (const f of FORMULAS) expect(src[0].shared, `${f} in the shared definition`).toMatch(f);
    for (const f of FORMULAS) expect(src[0].view, `${f} in the view`).not.toMatch(f);
    const trainingFeatures = (src[0].training as string).replace(/round\(coalesce\(window_totals\.label_(monetary|returns_value), 0\), 2\)/g, '');
    for (const f of FORMULAS) expect(trainingFeatures, `${f} in the training set`).not.toMatch(f);
    // the same holds of the files in sql/ (what the dependency plan reads)
    const sqlText = async (name: string) => readFile(join(sqlDir, (await readdir(sqlDir)).find((f) => f.endsWith(`_${name}.sql`))!), 'utf8');
    expect(await sqlText('features.customer_features')).toContain(`${SHARED}(`);
    expect(await sqlText('features.training_set')).toContain(`${SHARED}(`);
    // an inlinable SQL function: the planner folds it into the view's refresh and the training set
    const { rows: fn } = await full.pool.query(
      `select l.lanname as language, p.provolatile as volatility, p.prosecdef as definer, p.proisstrict as strict, p.proconfig as config,
              pg_get_userbyid(p.proowner) as owner, has_function_privilege('analyst', p.oid, 'execute') as analyst,
              has_function_privilege('public', p.oid, 'execute') as public, obj_description(p.oid, 'pg_proc') as comment
         from pg_proc as p inner join pg_language as l on l.oid = p.prolang where p.oid = $1::regprocedure`,
      [SHARED_SIGNATURE],
    );
    // only its owner may call it: the view's refresh and the security-definer training set run as transformer
    expect(fn[0]).toMatchObject({ language: 'sql', volatility: 's', definer: false, strict: false, config: null, owner: 'transformer', analyst: false, public: false });
    for (const column of FEATURES) expect(fn[0].comment, column).toContain(column);
    const { rows: plan } = await full.pool.query(`explain (costs off) select * from features.customer_features_as_of('2011-12-10', array[1], array['x'],
      array[timestamp '2011-01-01'], array[timestamp '2011-01-01'], array[1::bigint], array[1::numeric], array[1::bigint], array[1::bigint], array[0::numeric])`);
    expect(plan.map((p) => p['QUERY PLAN']).join('\n')).not.toMatch(/customer_features_as_of/);
  });

  it('scoring today: training_set(as_of_date, h) equals customer_features, every column and every customer', async () => {
    const expected = await rows(full.pool, 'features.customer_features', FEATURES);
    expect(expected.length).toBe(4334);
    expect(await rows(full.pool, `features.training_set('2011-12-10', 1)`, FEATURES)).toEqual(expected);
  });

  it('a changed definition reaches the view and the training set in the run that applies it', async () => {
    const db = await freshDatabase();
    const lines = Array.from({ length: 12 }, (_, i) => row({
      invoice_no: String(540000 + i), quantity: String(1 + (i % 4)), unit_price: `${1 + i}.125`,
      customer_id: `${12000 + (i % 6)}.0`, invoice_date: `2011-0${1 + (i % 3)}-1${i % 10} 10:00`,
    }));
    await stageRows(db.pool, [...lines, row({ invoice_no: 'C540100', quantity: '-1', customer_id: '12001', invoice_date: '2011-03-20 10:00' })]);
    await runTransform(db);
    const scoring = `features.training_set('2011-03-21', 1)`;
    const before = await rows(db.pool, 'features.customer_features', FEATURES);
    expect(before).toHaveLength(6);
    expect(await rows(db.pool, scoring, FEATURES)).toEqual(before);

    // another scoring rule and another rounding, in sql/090 only
    const dir = await mkdtemp(join(tmpdir(), 'training-sql-'));
    temps.push(dir);
    const changedDir = join(dir, 'sql');
    await cp(sqlDir, changedDir, { recursive: true });
    const file = join(changedDir, (await readdir(changedDir)).find((f) => f.endsWith(`_${SHARED}.sql`))!);
    const text = await readFile(file, 'utf8');
    const changed = text.replaceAll('ntile(5)', 'ntile(2)').replace('round(customers.monetary, 2) as monetary', 'round(customers.monetary, 0) as monetary');
    expect(changed).not.toBe(text);
    await writeFile(file, changed);
    const r = await runTransform(db, { sqlDir: changedDir });
    expect(r.files.filter((f) => f.action === 'create').map((f) => f.file)).toEqual(expect.arrayContaining([
      expect.stringMatching(/_features\.customer_features_as_of\.sql$/), expect.stringMatching(/_features\.customer_features\.sql$/),
    ]));
    // the training set is not recreated (no file of its changed): it calls the function by name, so it runs the new one
    expect(r.files.find((f) => f.file.endsWith('_features.training_set.sql'))?.action).toBe('skip');
    const after = await rows(db.pool, 'features.customer_features', FEATURES);
    expect(after).not.toEqual(before);
    const parsed = after.map((j) => JSON.parse(j) as { r_score: number; monetary: number });
    expect(Math.max(...parsed.map((p) => p.r_score))).toBe(2);
    expect(parsed.every((p) => Number.isInteger(p.monetary))).toBe(true);
    expect(await rows(db.pool, scoring, FEATURES)).toEqual(after);
  });
});
