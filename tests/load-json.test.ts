/** JSON sources on a real PostgreSQL (contract §1b): JSON Lines, documents, gzip, stdin, keys, rejects. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { openDatabase, type Database } from '../loader/db.js';
import { loadSources } from '../loader/load/index.js';
import { freshDatabase, type TestDatabase } from './support/db.js';
import { expectAccounted, loads, runLoad } from './support/load.js';

const columns = 'invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country';

let db: TestDatabase;
let database: Database;
let dir: string;

beforeAll(async () => {
  db = await freshDatabase();
  database = await openDatabase({ env: db.env, migrate: false });
  dir = mkdtempSync(join(tmpdir(), 'load-json-test-'));
});
afterAll(async () => {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => expectAccounted(db));

function file(name: string, bytes: Buffer | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

async function staged(loadId: number): Promise<Record<string, string | number | null>[]> {
  const { rows } = await db.pool.query(`select line_no, ${columns} from staging.transactions where load_id = $1 order by line_no`, [loadId]);
  return rows;
}

async function rejects(loadId: number) {
  const { rows } = await db.pool.query<{ line_no: number; reason: string; raw: Buffer }>(
    'select line_no, reason, raw from staging.load_rejects where load_id = $1 order by line_no',
    [loadId],
  );
  return rows;
}

const rec = (n: number, extra: Record<string, unknown> = {}) => ({
  InvoiceNo: `5400${n}`, StockCode: '22000', Description: `ITEM ${n}`, Quantity: n, InvoiceDate: '2011-01-02 10:00:00', UnitPrice: 1.25, CustomerID: 12345, Country: 'France', ...extra,
});
const row = (lineNo: number, n: number) => ({
  line_no: lineNo, invoice_no: `5400${n}`, stock_code: '22000', description: `ITEM ${n}`, quantity: String(n), invoice_date: '2011-01-02 10:00:00', unit_price: '1.25', customer_id: '12345', country: 'France',
});

describe('JSON Lines', () => {
  it('rejects a broken line, a non-object line and a nested value with line_no and raw bytes; stages the rest verbatim', async () => {
    const broken = '{"InvoiceNo": "540099", "StockCode": ';
    const notObject = '["540098", "22000"]';
    const nested = '{"InvoiceNo":"540097","StockCode":"22000","Description":{"en":"X"},"Quantity":1,"InvoiceDate":"2011-01-02 10:00:00","UnitPrice":1,"CustomerID":null,"Country":"UK"}';
    const lines = [
      // 1: numbers as written, an escaped string, an empty string, null, a missing key, true
      '{"InvoiceNo":"540001","StockCode":"85123A","Description":"WHITE \\"HEART\\", \\u00e9\\nNEW","Quantity":-12,"InvoiceDate":"2011-01-02 10:00:00","UnitPrice":12.50,"CustomerID":17850.0,"Country":""}',
      '', // 2: blank, not a record
      broken, // 3
      notObject, // 4
      `  ${nested}  `, // 5
      '{"invoiceno":"540002","STOCK_CODE":"X","description":null,"quantity":1e3,"Invoice Date":"2011-01-02","Price":-0.0,"Customer ID":true,"country":"UK","Channel":"web","extra":{"a":[1]}}\r', // 6
    ];
    const path = file('mixed.jsonl', lines.join('\n') + '\n');
    const notes: string[] = [];
    const [r] = await loadSources(database, [path], { onEvent: (e) => e.type === 'note' && notes.push(e.message) });
    expect(r).toMatchObject({ status: 'loaded', rowsRead: 5, rowsStaged: 2, rowsRejected: 3 });
    expect(await staged(r!.loadId!)).toEqual([
      { line_no: 1, invoice_no: '540001', stock_code: '85123A', description: 'WHITE "HEART", é\nNEW', quantity: '-12', invoice_date: '2011-01-02 10:00:00', unit_price: '12.50', customer_id: '17850.0', country: '' },
      { line_no: 6, invoice_no: '540002', stock_code: 'X', description: null, quantity: '1e3', invoice_date: '2011-01-02', unit_price: '-0.0', customer_id: 'true', country: 'UK' },
    ]);
    const rej = await rejects(r!.loadId!);
    expect(rej.map((x) => [x.line_no, x.reason, x.raw.toString()])).toEqual([
      [3, 'invalid_json', broken],
      [4, 'invalid_json', notObject],
      [5, 'nested_value', `  ${nested}  `],
    ]);
    expect(notes).toEqual(['keys ignored: Channel, extra']);
  });

  it('keeps any bytes of a rejected line, counts lines across a CRLF file, and rejects a \\u0000 value as nul_byte', async () => {
    const bad = Buffer.concat([Buffer.from('{"InvoiceNo":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const bytes = Buffer.concat([
      Buffer.from(JSON.stringify(rec(1)) + '\r\n'),
      bad, Buffer.from('\r\n'),
      Buffer.from(JSON.stringify(rec(2, { Description: 'A\u0000B' })) + '\r\n'),
      Buffer.from(JSON.stringify(rec(3))), // no line end at the end
    ]);
    const [r] = await loadSources(database, [file('crlf.ndjson', bytes)]);
    expect(r).toMatchObject({ status: 'loaded', rowsRead: 4, rowsStaged: 2, rowsRejected: 2 });
    expect(await staged(r!.loadId!)).toEqual([row(1, 1), row(4, 3)]);
    const rej = await rejects(r!.loadId!);
    expect(rej.map((x) => [x.line_no, x.reason])).toEqual([[2, 'invalid_utf8'], [3, 'nul_byte']]);
    expect(rej[0]!.raw).toEqual(bad);
  });

  it('fails a source in which no record has a canonical key: nothing staged, the error names the columns', async () => {
    const recs = [rec(1), rec(2)].map((x) => {
      const { Country: _c, UnitPrice: _u, ...rest } = x;
      return JSON.stringify(rest);
    });
    const path = file('no-country.jsonl', recs.join('\n') + '\n');
    const [r] = await loadSources(database, [path]);
    expect(r).toMatchObject({ status: 'failed', error: 'missing columns unit_price, country: no record has these keys' });
    const rows = (await loads(db)).filter((l) => l.source === path);
    expect(rows.map((l) => l.status)).toEqual(['failed']);
  });
});

describe('JSON documents', () => {
  const expected = [row(1, 1), row(2, 2), row(3, 3)];

  it('loads an array and an object holding one (records key taken, other members ignored), plain and gzip', async () => {
    const arr = file('array.json', JSON.stringify([rec(1), rec(2), rec(3)], null, 2));
    const obj = file('object.json.gz', gzipSync(JSON.stringify({ meta: { count: 3 }, orders: [rec(1), rec(2), rec(3)], next: null })));
    const [a, o] = await loadSources(database, [arr, obj]);
    expect(a).toMatchObject({ status: 'loaded', rowsRead: 3, rowsStaged: 3 });
    expect(o).toMatchObject({ status: 'loaded', rowsRead: 3, rowsStaged: 3 });
    expect(await staged(a!.loadId!)).toEqual(expected);
    expect(await staged(o!.loadId!)).toEqual(expected);
  });

  it('reads aliased and differently cased keys, in any order; a non-object element is an invalid_json reject', async () => {
    const doc = JSON.stringify({
      data: [
        { country: 'France', 'customer id': 12345, PRICE: 1.25, invoice_date: '2011-01-02 10:00:00', QUANTITY: 1, description: 'ITEM 1', Stock_Code: '22000', Invoice: '54001' },
        42,
        rec(3),
      ],
    });
    const [r] = await loadSources(database, [file('aliases.json', doc)]);
    expect(r).toMatchObject({ status: 'loaded', rowsRead: 3, rowsStaged: 2, rowsRejected: 1 });
    expect(await staged(r!.loadId!)).toEqual([row(1, 1), row(3, 3)]);
    expect((await rejects(r!.loadId!)).map((x) => [x.line_no, x.reason, x.raw.toString()])).toEqual([[2, 'invalid_json', '42']]);
  });

  it('fails a document that is cut off, or holds two arrays: nothing staged', async () => {
    const full = JSON.stringify([rec(1), rec(2), rec(3)]);
    const cut = file('cut.json', full.slice(0, full.length - 20));
    const two = file('two.json', JSON.stringify({ orders: [rec(1)], refunds: [rec(2)] }));
    const [c, t] = await loadSources(database, [cut, two]);
    expect(c!.status).toBe('failed');
    expect(c!.error).toMatch(/^the JSON document is cut off/);
    expect(t).toMatchObject({ status: 'failed', error: 'the JSON object holds several arrays ("orders" and "refunds"): which one holds the records is unclear' });
  });

  it('reads stdin (JSON Lines told by content, gzip by magic bytes) and --format', async () => {
    const body = gzipSync([rec(1), rec(2), rec(3)].map((x) => JSON.stringify(x)).join('\n') + '\n');
    const run = await runLoad(db, ['--json', '-'], { input: body });
    expect([run.code, run.stderr]).toEqual([0, '']);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({ loaded: 1, rowsStaged: 3 });
    expect(await staged(out.results[0].loadId)).toEqual(expected);
    // one object on one line is a document unless told otherwise
    const one = JSON.stringify(rec(7));
    const asDoc = await runLoad(db, ['-'], { input: one });
    expect(asDoc.code).toBe(1);
    expect(asDoc.stderr).toBe('load: -: the JSON object holds no array of records (one JSON Lines record? use --format jsonl)\n');
    const asLines = await runLoad(db, ['--json', '--format', 'jsonl', '-'], { input: one });
    expect(asLines.code).toBe(0);
    expect(await staged(JSON.parse(asLines.stdout).results[0].loadId)).toEqual([row(1, 7)]);
  });

  it('the content decides over the name: JSON Lines in a .json file load as JSON Lines; a .jsonl name settles one line', async () => {
    const lines = file('lines.json', [rec(1), rec(2)].map((x) => JSON.stringify(x)).join('\n') + '\n');
    const one = file('one.jsonl', JSON.stringify(rec(1)) + '\n');
    const [a, b] = await loadSources(database, [lines, one]);
    expect(a).toMatchObject({ status: 'loaded', rowsStaged: 2 });
    expect(b).toMatchObject({ status: 'loaded', rowsStaged: 1 });
    expect(await staged(b!.loadId!)).toEqual([row(1, 1)]);
  });

  it('a directory gives its .json, .jsonl, .ndjson (and .gz) files with the CSV ones', async () => {
    const sub = mkdtempSync(join(dir, 'inbox-'));
    writeFileSync(join(sub, 'a.jsonl.gz'), gzipSync(JSON.stringify(rec(11)) + '\n'));
    writeFileSync(join(sub, 'b.ndjson'), JSON.stringify(rec(12)) + '\n');
    writeFileSync(join(sub, 'c.json'), JSON.stringify([rec(13)]));
    writeFileSync(join(sub, 'd.txt'), 'not data');
    const results = await loadSources(database, [sub], { jobs: 1 });
    expect(results.map((r) => [r.source, r.status, r.rowsStaged])).toEqual([
      [join(sub, 'a.jsonl.gz'), 'loaded', 1],
      [join(sub, 'b.ndjson'), 'loaded', 1],
      [join(sub, 'c.json'), 'loaded', 1],
    ]);
  });
});
