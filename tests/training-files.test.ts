/**
 * npm run training-set: the Parquet and CSV files, read back by an independent reader (DuckDB), hold
 * exactly the rows of features.training_set for each cutoff, in order, with real types; bad arguments
 * are one line and exit 2; a failed run leaves the target file as it was.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bundledDataDir, projectRoot } from '../loader/paths.js';
import { openSink } from '../loader/training/sinks.js';
import { runTransform } from '../loader/transform/index.js';
import { freshDatabase, type TestDatabase } from './support/db.js';

const exec = promisify(execFile);
const cli = (name: string) => join(projectRoot, 'dist', 'loader', 'cli', `${name}.js`);

const CUTOFFS = ['2011-02-01', '2011-03-01', '2011-03-29'];
const HORIZON = 30;
/** the function's columns, and the type an independent reader must see for each */
const TYPES: Record<string, string> = {
  cutoff_date: 'DATE', customer_id: 'INTEGER', country: 'VARCHAR', first_purchase_at: 'TIMESTAMP', last_purchase_at: 'TIMESTAMP',
  recency_days: 'INTEGER', tenure_days: 'INTEGER', frequency: 'BIGINT', monetary: 'DECIMAL(18,2)', avg_order_value: 'DECIMAL(18,2)',
  units: 'BIGINT', distinct_products: 'BIGINT', returns_value: 'DECIMAL(18,2)', return_rate: 'DECIMAL(18,4)', r_score: 'INTEGER',
  f_score: 'INTEGER', m_score: 'INTEGER', label_purchased: 'BOOLEAN', label_frequency: 'BIGINT', label_monetary: 'DECIMAL(18,2)',
  label_returns_value: 'DECIMAL(18,2)',
};
const COLUMNS = Object.keys(TYPES);

interface Run { code: number | null; stdout: string; stderr: string }

async function trainingSet(db: TestDatabase, args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [cli('training-set'), ...args], { env: db.env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let db: TestDatabase;
let dir: string;
let expected: (string | null)[][];
const duck = await (await DuckDBInstance.create(':memory:')).connect();

async function read(sql: string): Promise<Record<string, unknown>[]> {
  return (await duck.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

/** a reader's value as text, as PostgreSQL writes it (booleans true/false) */
const text = (v: unknown) => (v === null || v === undefined ? null : String(v));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'training-files-'));
  db = await freshDatabase();
  // the days up to 2011-04-15: the last cutoff's window runs past the data, so its labels are NULL
  const days = readdirSync(bundledDataDir).filter((f) => f.endsWith('.csv.gz') && f < '2011-04-16').sort();
  await exec(process.execPath, [cli('load'), '--quiet', ...days.map((f) => join(bundledDataDir, f))], { env: db.env, maxBuffer: 1 << 24 });
  await runTransform(db);
  expected = [];
  for (const cutoff of CUTOFFS) {
    const { rows } = await db.pool.query({
      text: `select ${COLUMNS.map((c) => `${c}::text`).join(', ')} from features.training_set($1::date, $2::integer) order by customer_id`,
      values: [cutoff, HORIZON],
      rowMode: 'array',
    });
    expected.push(...rows);
  }
}, 300_000);

afterAll(() => {
  duck.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

describe('training-set files', () => {
  it('Parquet: an independent reader sees the function rows, in order, with DATE, TIMESTAMP, integer, BOOLEAN and DECIMAL types', async () => {
    const out = join(dir, 'set.parquet');
    const r = await trainingSet(db, ['--cutoff', CUTOFFS[2]!, '--cutoff', CUTOFFS[0]!, '--cutoff', CUTOFFS[1]!, '--horizon-days', String(HORIZON), '--out', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    const perCutoff = CUTOFFS.map((c) => expected.filter((row) => row[0] === c).length);
    expect(summary).toMatchObject({ out, format: 'parquet', horizon_days: HORIZON, rows: expected.length, cutoffs: CUTOFFS.map((c, i) => ({ cutoff_date: c, rows: perCutoff[i] })) });
    expect(perCutoff.every((n) => n > 0)).toBe(true);

    const described = await read(`describe select * from read_parquet('${out}')`);
    expect(Object.fromEntries(described.map((d) => [d.column_name, d.column_type]))).toEqual(TYPES);
    expect(described.map((d) => d.column_name)).toEqual(COLUMNS);
    const rows = (await read(`select * from read_parquet('${out}')`)).map((row) => COLUMNS.map((c) => text(row[c])));
    expect(rows).toEqual(expected);
    // the labels of the last cutoff are NULL (window past 2011-04-16), the others are not
    expect(rows.filter((row) => row[0] === CUTOFFS[2] && row[17] !== null)).toEqual([]);
    expect(rows.filter((row) => row[0] !== CUTOFFS[2] && row[17] === null)).toEqual([]);
    // the logical types as written (what pyarrow reads too): dates, naive timestamps in microseconds, decimals
    const schema = await read(`select name, type, logical_type from parquet_schema('${out}') where name in ('cutoff_date', 'first_purchase_at', 'monetary', 'return_rate')`);
    expect(Object.fromEntries(schema.map((s) => [s.name, `${s.type} ${s.logical_type}`]))).toEqual({
      cutoff_date: 'INT32 DateType()',
      first_purchase_at: 'INT64 TimestampType(isAdjustedToUTC=0, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))',
      monetary: 'INT64 DecimalType(scale=2, precision=18)',
      return_rate: 'INT64 DecimalType(scale=4, precision=18)',
    });
  });

  it('Parquet in many row groups (as a large set is written: one group in memory at a time) reads back the same', async () => {
    const out = join(dir, 'groups.parquet');
    const sink = openSink('parquet', out, 1000);
    // as the cursor gives them: PostgreSQL's text output, booleans t / f
    const wire = expected.map((row) => row.map((v) => (v === 'true' ? 't' : v === 'false' ? 'f' : v)));
    for (let i = 0; i < wire.length; i += 700) await sink.push(wire.slice(i, i + 700));
    await sink.finish();
    const groups = await read(`select count(distinct row_group_id)::int as n from parquet_metadata('${out}')`);
    expect(groups[0]!.n).toBe(Math.ceil(expected.length / 1000));
    const rows = (await read(`select * from read_parquet('${out}')`)).map((row) => COLUMNS.map((c) => text(row[c])));
    expect(rows).toEqual(expected);
  });

  it('CSV: the same rows and header; readers detect dates, timestamps and booleans', async () => {
    const out = join(dir, 'set.csv');
    const r = await trainingSet(db, ['--from', CUTOFFS[0]!, '--to', '2011-04-05', '--every', '28', '--horizon-days', String(HORIZON), '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^training set written: ${expected.length.toLocaleString('en-US')} rows \\(3 cutoffs, horizon 30 days\\) to `));
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe(COLUMNS.join(','));
    const rows = (await read(`select * from read_csv('${out}', header = true, all_varchar = true)`)).map((row) => COLUMNS.map((c) => text(row[c])));
    expect(rows).toEqual(expected); // booleans as true / false, like bool::text
    const detected = Object.fromEntries((await read(`describe select * from read_csv('${out}', header = true)`)).map((d) => [d.column_name, d.column_type]));
    expect(detected).toMatchObject({ cutoff_date: 'DATE', first_purchase_at: 'TIMESTAMP', label_purchased: 'BOOLEAN', customer_id: 'BIGINT', monetary: 'DOUBLE' });
  });

  it('bad arguments: one line, exit 2, nothing written', async () => {
    const out = join(dir, 'bad.csv');
    for (const args of [
      ['--cutoff', '2011-02-30', '--horizon-days', '30', '--out', out],
      ['--cutoff', '2011-02-01', '--horizon-days', '0', '--out', out],
      ['--cutoff', '2011-02-01', '--horizon-days', '30', '--out', join(dir, 'bad.txt')],
      ['--cutoff', '2011-02-01', '--from', '2011-01-01', '--to', '2011-02-01', '--every', '7', '--horizon-days', '30', '--out', out],
      ['--cutoff', '2011-02-01', '--out', out],
      ['--cutoff', '2011-02-01', '--horizon-days', '30'],
      ['--from', '2011-03-01', '--to', '2011-02-01', '--every', '7', '--horizon-days', '30', '--out', out],
      ['--horizon-days', '30', '--out', out],
      ['--nonsense'],
    ]) {
      const r = await trainingSet(db, args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^training-set: /);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('a cutoff the function refuses: one line, exit 2, the earlier file kept whole, no partial file', async () => {
    const out = join(dir, 'kept.parquet');
    writeFileSync(out, 'earlier');
    for (const cutoff of ['2010-12-01', '2011-04-17']) {
      const r = await trainingSet(db, ['--cutoff', CUTOFFS[0]!, '--cutoff', cutoff, '--horizon-days', '30', '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^training-set: cutoff ${cutoff}: training_set: `));
    }
    expect(readFileSync(out, 'utf8')).toBe('earlier');
    expect(readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
  });
});
