/** Contract §3: parsing, quarantine reasons and their order, line kinds, duplicates — on hand-written fixtures. */
import { beforeAll, describe, expect, it } from 'vitest';

import { runTransform } from '../loader/transform/index.js';
import { freshDatabase, type TestDatabase } from './support/db.js';
import { row, stageRows } from './support/stage.js';

let db: TestDatabase;
let first: number;
let second: number;

// load 1: every quarantine reason (and the order between them), every line kind, odd but valid values
const load1 = [
  /* 2 */ row({ invoice_no: '  ', stock_code: '', quantity: 'x' }), // missing_invoice_no before missing_stock_code
  /* 3 */ row({ stock_code: null, quantity: 'x' }), // missing_stock_code before bad_quantity
  /* 4 */ row({ quantity: '1.5', unit_price: 'abc' }), // bad_quantity before bad_unit_price
  /* 5 */ row({ quantity: '2147483648' }), // does not fit int4
  /* 6 */ row({ unit_price: '1,5', invoice_date: 'soon' }), // bad_unit_price before bad_invoice_date
  /* 7 */ row({ unit_price: '1e3' }),
  /* 8 */ row({ invoice_date: '2011-02-29 10:00', customer_id: 'x' }), // bad_invoice_date before bad_customer_id
  /* 9 */ row({ invoice_date: '2011-12-09T12:50:00' }),
  /* 10 */ row({ invoice_date: '13/1/2011 8:26' }),
  /* 11 */ row({ invoice_date: '2011-01-01 24:00' }),
  /* 12 */ row({ customer_id: '17850.5' }),
  /* 13 */ row({ customer_id: '99999999999' }),
  /* 14 */ row({ invoice_no: 'C536379', stock_code: 'D', quantity: '-1', unit_price: '27.50' }), // cancellation first
  /* 15 */ row({ invoice_no: 'c1', quantity: '1' }), // cancellation, any case
  /* 16 */ row({ invoice_no: 'A563185', stock_code: 'B', quantity: '1', unit_price: '11062.06', customer_id: '' }), // adjustment
  /* 17 */ row({ invoice_no: '2', quantity: '0' }), // adjustment: quantity <= 0
  /* 18 */ row({ invoice_no: '3', unit_price: '-11062.06' }), // adjustment: unit_price <= 0
  /* 19 */ row({ invoice_no: '4', stock_code: 'post' }), // fee, any case
  /* 20 */ row({ invoice_no: '4', stock_code: 'gift_0001_40' }), // fee: GIFT_ prefix
  /* 21 */ row({ invoice_no: '4', stock_code: 'BANK CHARGES' }), // fee
  /* 22 */ row({ invoice_no: '4', stock_code: 'DOTCOM' }), // sale: not exactly DOT
  /* 23 */ row({ invoice_no: '5', invoice_date: '12/1/2010 8:26', quantity: ' +3 ', unit_price: '.5', customer_id: '17850.0' }),
  /* 24 */ row({ invoice_no: '6', invoice_date: '2012-02-29 23:59:59', quantity: '-2147483648', description: '  PADDED  ', country: '  ' }),
  /* 25 */ row({ invoice_no: '7', invoice_date: '1/31/2011 17:05:09', customer_id: '0017850' }),
  // duplicates within the load: 27 repeats 26 exactly; 28 equals 26 once trimmed and parsed
  /* 26 */ row({ invoice_no: '8', description: null, customer_id: null, country: null }),
  /* 27 */ row({ invoice_no: '8', description: null, customer_id: null, country: null }),
  /* 28 */ row({ invoice_no: ' 8', description: '', quantity: '06', unit_price: '2.550', customer_id: ' ', country: '', invoice_date: '12/1/2010 8:26:00' }),
  /* 29 */ row({ invoice_no: '8', description: 'X', customer_id: null, country: null }), // not a duplicate: description differs
];

// load 2: one row already in load 1 (a duplicate across loads), one new
const load2 = [row({ invoice_no: '7', invoice_date: '2011-01-31 17:05:09', customer_id: '17850' }), row({ invoice_no: '9' })];

beforeAll(async () => {
  db = await freshDatabase();
  first = await stageRows(db.pool, load1);
  second = await stageRows(db.pool, load2);
  await stageRows(db.pool, [row({ invoice_no: '99' })], { status: 'running' }); // never visible
  await stageRows(db.pool, [row({ invoice_no: '98' })], { status: 'failed' });
  await runTransform(db);
});

async function core(lineNo: number, loadId = first) {
  const { rows } = await db.pool.query(
    `select invoice_no, stock_code, description, quantity, to_char(invoice_date, 'YYYY-MM-DD HH24:MI:SS') as invoice_date,
            unit_price::text, customer_id, country, line_amount::text, line_kind
       from core.transactions where load_id = $1 and line_no = $2`,
    [loadId, lineNo],
  );
  return rows[0];
}

describe('transform: contract §3 on fixtures', () => {
  it('quarantines each bad row with the first reason that applies, keeping its staged values verbatim', async () => {
    const { rows } = await db.pool.query('select line_no::int, reason from core.quarantine where load_id = $1 order by line_no', [first]);
    expect(rows).toEqual([
      { line_no: 2, reason: 'missing_invoice_no' },
      { line_no: 3, reason: 'missing_stock_code' },
      { line_no: 4, reason: 'bad_quantity' },
      { line_no: 5, reason: 'bad_quantity' },
      { line_no: 6, reason: 'bad_unit_price' },
      { line_no: 7, reason: 'bad_unit_price' },
      { line_no: 8, reason: 'bad_invoice_date' },
      { line_no: 9, reason: 'bad_invoice_date' },
      { line_no: 10, reason: 'bad_invoice_date' },
      { line_no: 11, reason: 'bad_invoice_date' },
      { line_no: 12, reason: 'bad_customer_id' },
      { line_no: 13, reason: 'bad_customer_id' },
    ]);
    const { rows: raw } = await db.pool.query('select invoice_no, stock_code, quantity from core.quarantine where load_id = $1 and line_no = 2', [first]);
    expect(raw[0]).toEqual({ invoice_no: '  ', stock_code: '', quantity: 'x' });
  });

  it('classifies line kinds by the first rule that applies', async () => {
    const kinds: Record<number, string> = { 14: 'cancellation', 15: 'cancellation', 16: 'adjustment', 17: 'adjustment', 18: 'adjustment', 19: 'fee', 20: 'fee', 21: 'fee', 22: 'sale', 23: 'sale' };
    for (const [line, kind] of Object.entries(kinds)) expect({ line, kind: (await core(Number(line)))?.line_kind }).toEqual({ line, kind });
  });

  it('parses M/D/YYYY H:MM dates, signs, .5 prices, 17850.0 customer ids, trims and nulls empty text', async () => {
    expect(await core(23)).toMatchObject({ invoice_date: '2010-12-01 08:26:00', quantity: 3, unit_price: '0.5', customer_id: 17850, line_amount: '1.5' });
    expect(await core(24)).toMatchObject({ invoice_date: '2012-02-29 23:59:59', quantity: -2147483648, description: 'PADDED', country: null });
    expect(await core(25)).toMatchObject({ invoice_date: '2011-01-31 17:05:09', customer_id: 17850 });
    expect(await core(16)).toMatchObject({ customer_id: null, unit_price: '11062.06', line_amount: '11062.06' });
  });

  it('keeps the first loaded of equal rows, within a load and across loads', async () => {
    expect(await core(26)).toMatchObject({ invoice_no: '8', description: null, customer_id: null, country: null });
    expect(await core(27)).toBeUndefined();
    expect(await core(28)).toBeUndefined();
    expect(await core(29)).toMatchObject({ description: 'X' });
    expect(await core(2, second)).toBeUndefined(); // same as load 1 line 25
    expect(await core(3, second)).toMatchObject({ invoice_no: '9' });
  });

  it('accounts for every staged row per load, and ignores loads that are not complete', async () => {
    const { rows } = await db.pool.query(
      `select load_id::int, status, rows_staged::int, rows_quarantined::int, duplicates::int, rows_clean::int, quarantined_bad_invoice_date::int
         from meta.load_summary order by load_id`,
    );
    expect(rows).toEqual([
      { load_id: first, status: 'complete', rows_staged: 28, rows_quarantined: 12, duplicates: 2, rows_clean: 14, quarantined_bad_invoice_date: 4 },
      { load_id: second, status: 'complete', rows_staged: 2, rows_quarantined: 0, duplicates: 1, rows_clean: 1, quarantined_bad_invoice_date: 0 },
      { load_id: second + 1, status: 'running', rows_staged: 1, rows_quarantined: null, duplicates: null, rows_clean: null, quarantined_bad_invoice_date: null },
      { load_id: second + 2, status: 'failed', rows_staged: 1, rows_quarantined: null, duplicates: null, rows_clean: null, quarantined_bad_invoice_date: null },
    ]);
    const { rows: n } = await db.pool.query(`select count(*)::int as n from core.transactions where invoice_no in ('98', '99')`);
    expect(n[0].n).toBe(0);
  });
});
