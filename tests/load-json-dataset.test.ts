/**
 * The bundled dataset converted to JSON Lines here (by a CSV reader of this test's own) loads to the
 * same staged values as the CSV files, and after the transform to the same features. The CSV side is a copy
 * of the run's bundled template (the loader CLI and runTransform on the bundled files: tests/support/db.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

import { afterAll, describe, expect, it } from 'vitest';

import { openDatabase } from '../loader/db.js';
import { loadSources } from '../loader/load/index.js';
import { bundledDataDir } from '../loader/paths.js';
import { runTransform } from '../loader/transform/index.js';
import { freshDatabase, type TestDatabase } from './support/db.js';
import { expectAccounted } from './support/load.js';

const dir = mkdtempSync(join(tmpdir(), 'load-json-dataset-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** RFC 4180 records of a whole file: fields, and whether each was quoted (an unquoted empty field is NULL). */
function csvRecords(text: string): { value: string; quoted: boolean }[][] {
  const out: { value: string; quoted: boolean }[][] = [];
  let rec: { value: string; quoted: boolean }[] = [];
  let field = '';
  let quoted = false;
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuote) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') inQuote = false;
      else field += c;
    } else if (c === '"') (inQuote = true), (quoted = true);
    else if (c === ',') rec.push({ value: field, quoted }), (field = ''), (quoted = false);
    else if (c === '\n') {
      rec.push({ value: field.endsWith('\r') && !quoted ? field.slice(0, -1) : field, quoted });
      out.push(rec);
      (rec = []), (field = ''), (quoted = false);
    } else field += c;
  }
  if (field || rec.length) rec.push({ value: field, quoted }), out.push(rec);
  return out;
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** One CSV file → JSON Lines text: numbers written as JSON numbers (their text kept), the rest as strings. */
function toJsonLines(csv: string): string {
  const [header, ...records] = csvRecords(csv);
  const keys = header!.map((f) => f.value);
  return records
    .map((r) => {
      const members = r.map((f, k) => {
        const v = f.value === '' && !f.quoted ? 'null' : JSON_NUMBER.test(f.value) ? f.value : JSON.stringify(f.value);
        return `${JSON.stringify(keys[k])}:${v}`;
      });
      return `{${members.join(',')}}`;
    })
    .join('\n') + '\n';
}

async function fingerprint(db: TestDatabase, sql: string): Promise<{ n: number; md5: string }> {
  const { rows } = await db.pool.query(`select count(*)::int as n, md5(coalesce(string_agg(r, E'\\n' order by r), '')) as md5 from (${sql}) as q (r)`);
  return rows[0];
}

// per source file (its day), the i-th record's eight values, quote_nullable so NULL and '' differ
const stagedSql = `
  select concat_ws('|', regexp_replace(l.source, '^.*/|\\.[a-z.]+$', '', 'g'),
                   row_number() over (partition by t.load_id order by t.line_no),
                   quote_nullable(invoice_no), quote_nullable(stock_code), quote_nullable(description), quote_nullable(quantity),
                   quote_nullable(invoice_date), quote_nullable(unit_price), quote_nullable(customer_id), quote_nullable(country))
    from staging.transactions as t
    join meta.loads as l on l.load_id = t.load_id and l.status = 'complete'`;

describe('bundled dataset as JSON Lines', () => {
  it('stages the same values as the CSV files, and the transform gives the same features', async () => {
    const files = readdirSync(bundledDataDir).filter((f) => f.endsWith('.csv.gz'));
    expect(files.length).toBe(305);
    for (const f of files) {
      const jsonl = toJsonLines(gunzipSync(readFileSync(join(bundledDataDir, f))).toString('utf8'));
      writeFileSync(join(dir, f.replace(/\.csv\.gz$/, '.jsonl.gz')), gzipSync(jsonl, { level: 1 }));
    }
    const csvDb = await freshDatabase({ bundled: true });
    const jsonDb = await freshDatabase();
    const database = await openDatabase({ env: jsonDb.env, migrate: false });
    try {
      const results = await loadSources(database, [dir], { jobs: 2 });
      expect(results.length).toBe(305);
      expect(results.filter((r) => r.status !== 'loaded')).toEqual([]);
      expect(results.reduce((n, r) => n + r.rowsStaged, 0)).toBe(541909);
      await runTransform(database);
    } finally {
      await database.close();
    }
    // the CSV side, from the template's ledger: every bundled file one complete load, transformed
    const { rows: csvLoads } = await csvDb.pool.query(
      `select count(*)::int as loads, count(*) filter (where status = 'complete')::int as complete, sum(rows_staged)::int as staged,
              (select count(*)::int from meta.transform_runs where status = 'complete') as runs from meta.loads`,
    );
    expect(csvLoads).toEqual([{ loads: 305, complete: 305, staged: 541909, runs: 1 }]);
    for (const db of [csvDb, jsonDb]) await expectAccounted(db);
    const stagedCsv = await fingerprint(csvDb, stagedSql);
    expect(stagedCsv.n).toBe(541909);
    expect(await fingerprint(jsonDb, stagedSql)).toEqual(stagedCsv);
    for (const view of ['customer_features', 'daily_sales', 'product_features', 'customer_cohorts']) {
      const sql = `select v::text from features.${view} as v`;
      const [a, b] = [await fingerprint(csvDb, sql), await fingerprint(jsonDb, sql)];
      expect(b, view).toEqual(a);
      expect(a.n, view).toBeGreaterThan(0);
    }
    expect((await fingerprint(jsonDb, 'select customer_id::text from features.customer_features')).n).toBe(4334);
  }, 600_000);
});
