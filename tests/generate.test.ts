/**
 * The generator: same seed → same bytes (CLI, plain, gzip, split by day, a day on its own), and the
 * shares of the output within stated ranges of the real data's. Expected shares come from the
 * contract's reference figures (§5) and from reading the bundled files here, not from the generator.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import { afterAll, describe, expect, it } from 'vitest';

import { Calendar, dayOf } from '../loader/generate/calendar.js';
import { CLEAN_VARIANTS, QUARANTINE_REASONS, TOO_LARGE_BYTES, renderDefect, type Fields } from '../loader/generate/dirty.js';
import { loadCalibration } from '../loader/generate/calibration.js';
import { HEADER, RowGenerator } from '../loader/generate/generator.js';
import { Model } from '../loader/generate/model.js';
import { parseGenerateArgs, parseCount } from '../loader/generate/options.js';
import { AliasTable, Rng } from '../loader/generate/random.js';
import { bundledDataDir, projectRoot } from '../loader/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'generate-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const generate = (...args: string[]): void => void execFileSync(process.execPath, ['dist/scripts/generate.js', '--quiet', ...args], { cwd: projectRoot });

/** an RFC 4180 parser written for the tests: line by line, joining lines while a quote is open */
function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (!line.includes('"')) {
      out.push(line.split(','));
      continue;
    }
    while ((line.match(/"/g)?.length ?? 0) % 2 === 1 && i + 1 < lines.length) line += '\n' + lines[++i];
    const rec: string[] = [];
    let field = '';
    let quoted = false;
    for (let j = 0; j < line.length; j++) {
      const ch = line[j];
      if (quoted) {
        if (ch === '"' && line[j + 1] === '"') (field += '"'), j++;
        else if (ch === '"') quoted = false;
        else field += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ',') rec.push(field), (field = '');
      else field += ch;
    }
    rec.push(field);
    out.push(rec);
  }
  return out;
}

describe('determinism', () => {
  it('gives the same bytes for the same seed, and other bytes for another seed', () => {
    for (const extra of [[], ['--gzip'], ['--dirty', '0.02']]) {
      const ext = extra.includes('--gzip') ? '.csv.gz' : '.csv';
      const [a, b, c] = ['a', 'b', 'c'].map((n) => join(dir, `${n}${extra.join('')}${ext}`));
      generate('--rows', '20000', '--seed', '7', '--out', a!, ...extra);
      generate('--rows', '20000', '--seed', '7', '--out', b!, ...extra);
      generate('--rows', '20000', '--seed', '8', '--out', c!, ...extra);
      expect(readFileSync(a!).equals(readFileSync(b!))).toBe(true);
      expect(readFileSync(a!).equals(readFileSync(c!))).toBe(false);
      const manifest = (p: string) => JSON.parse(readFileSync(`${p}.manifest.json`, 'utf8')) as { expected: unknown; positions: unknown };
      expect(manifest(a!).expected).toEqual(manifest(b!).expected);
      expect(manifest(a!).positions).toEqual(manifest(b!).positions);
    }
  });

  it('splits by day into the same records, and generates any single day alone', () => {
    const single = join(dir, 'single.csv');
    const days = join(dir, 'days');
    generate('--rows', '12000', '--seed', '3', '--out', single);
    generate('--rows', '12000', '--seed', '3', '--split-by-day', days);
    const files = readdirSync(days).filter((f) => f.endsWith('.csv')).sort();
    expect(files.length).toBeGreaterThan(3);
    // the folder holds the day files only (loading it must not meet a JSON manifest): the manifest is beside it
    expect(readdirSync(days).filter((f) => !f.endsWith('.csv'))).toEqual([]);
    expect(JSON.parse(readFileSync(`${days}.manifest.json`, 'utf8')).expected.rows_read).toBe(12000);
    const joined = files.map((f) => readFileSync(join(days, f), 'utf8').slice(HEADER.length)).join('');
    expect(HEADER + joined).toBe(readFileSync(single, 'utf8'));
    for (const f of files) expect(readFileSync(join(days, f), 'utf8').startsWith(HEADER)).toBe(true);
    const alone = join(dir, 'alone.csv');
    generate('--from', files[2]!.slice(0, 10), '--days', '1', '--seed', '3', '--out', alone);
    expect(readFileSync(alone, 'utf8')).toBe(readFileSync(join(days, files[2]!), 'utf8'));
  });

  it('writes --rows records exactly, also to stdout and gzip', () => {
    const out = execFileSync(process.execPath, ['dist/scripts/generate.js', '--quiet', '--rows', '777', '--gzip'], { cwd: projectRoot });
    const records = parseCsv(gunzipSync(out).toString('utf8'));
    expect(records[0]!.join(',') + '\n').toBe(HEADER);
    expect(records.length - 1).toBe(777);
    expect(records.filter((r) => r.length !== 8)).toEqual([]);
  });
});

/** line kinds per contract §3, duplicates = eight trimmed values equal (an independent count) */
function profile(records: string[][]) {
  const fees = new Set(['POST', 'DOT', 'C2', 'M', 'D', 'S', 'B', 'BANK CHARGES', 'AMAZONFEE', 'CRUK']);
  const seen = new Set<string>();
  const kinds = { sale: 0, cancellation: 0, adjustment: 0, fee: 0 };
  let duplicates = 0;
  for (const r of records) {
    const t = r.map((v) => v.trim());
    const key = t.join('\u0001');
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    if (/^c/i.test(t[0]!)) kinds.cancellation++;
    else if (/^a/i.test(t[0]!) || Number(t[3]) <= 0 || Number(t[5]) <= 0) kinds.adjustment++;
    else if (fees.has(t[1]!.toUpperCase()) || /^gift_/i.test(t[1]!)) kinds.fee++;
    else kinds.sale++;
  }
  return { kinds, duplicates, guests: records.filter((r) => r[6] === '').length };
}

describe('calibration', () => {
  const rows = 300_000;
  const cal = loadCalibration();
  const gen = new RowGenerator(new Model(cal, 11), new Calendar(cal, 11, 1), { seed: 11, rows, from: 0, volume: 1, dirty: 0, splitByDay: false });
  const text = [...gen.pieces()].map((p) => p.data as string).join('');
  const records = parseCsv(text);
  const got = profile(records);

  // the real data: contract §5 (541,909 rows; kinds and duplicates), guests counted from the bundled files
  const real = { rows: 541_909, cancellation: 9_251, adjustment: 2_513, fee: 2_337, duplicates: 5_268 };
  const bundled = readdirSync(bundledDataDir).filter((f) => f.endsWith('.csv.gz'));
  const bundledRecords = bundled.flatMap((f) => parseCsv(gunzipSync(readFileSync(join(bundledDataDir, f))).toString('utf8')).slice(1));
  const realGuestShare = bundledRecords.filter((r) => r[6] === '').length / bundledRecords.length;

  /** stated ranges: within ±25 % of the real share */
  const near = (share: number, realShare: number) => {
    expect(share).toBeGreaterThan(realShare * 0.75);
    expect(share).toBeLessThan(realShare * 1.25);
  };

  it('writes the requested rows with eight fields each', () => {
    expect(bundledRecords.length).toBe(real.rows);
    expect(records).toHaveLength(rows);
    expect(records.filter((r) => r.length !== 8)).toEqual([]);
  });

  it('has guests, cancellations, fees, adjustments and duplicates at the real rates', () => {
    near(got.guests / rows, realGuestShare);
    near(got.kinds.cancellation / rows, real.cancellation / real.rows);
    near(got.kinds.fee / rows, real.fee / real.rows);
    near(got.kinds.adjustment / rows, real.adjustment / real.rows);
    near(got.duplicates / rows, real.duplicates / real.rows);
  });

  it('counts its duplicates and line kinds exactly (no accidental duplicates)', () => {
    const e = gen.total.expected();
    expect(e.duplicates).toBe(got.duplicates);
    expect(e.line_kinds).toEqual(got.kinds);
  });

  it('uses the real catalogue, multi-line invoices, heavy-tailed customers and the shop hours', () => {
    const catalogue = new Map(bundledRecords.map((r) => [r[1]!, r]));
    expect(records.every((r) => catalogue.has(r[1]!))).toBe(true);
    const codes = new Set(records.map((r) => r[1]));
    expect(codes.size).toBeGreaterThan(3000);
    const invoices = new Map<string, number>();
    for (const r of records) invoices.set(r[0]!, (invoices.get(r[0]!) ?? 0) + 1);
    const sizes = [...invoices.values()].sort((a, b) => a - b);
    expect(sizes[Math.floor(sizes.length / 2)]).toBeGreaterThanOrEqual(5); // real median: 10 lines
    const perCustomer = new Map<string, number>();
    for (const r of records) if (r[6]) perCustomer.set(r[6], (perCustomer.get(r[6]) ?? 0) + 1);
    const counts = [...perCustomer.values()].sort((a, b) => b - a);
    const top10 = counts.slice(0, Math.floor(counts.length / 10)).reduce((s, n) => s + n, 0) / counts.reduce((s, n) => s + n, 0);
    expect(top10).toBeGreaterThan(0.35); // real: the top 10 % of customers have 49 % of the lines
    const shopHours = records.filter((r) => r[4]!.slice(11, 13) >= '08' && r[4]!.slice(11, 13) <= '17').length / rows;
    expect(shopHours).toBeGreaterThan(0.9); // real: 97.6 %
    expect(records.some((r) => r[4]!.startsWith('2010-12-01 '))).toBe(true);
    expect(records.every((r) => /^\d{4}-\d\d-\d\d \d\d:\d\d:00$/.test(r[4]!) && new Date(r[4]!.slice(0, 10)).getUTCDay() !== 6)).toBe(true);
  });
});

describe('pieces', () => {
  it('parses counts and checks options', () => {
    expect(parseCount('rows', '1_000_000')).toBe(1_000_000);
    expect(parseCount('rows', '4M')).toBe(4_000_000);
    expect(parseCount('rows', '1e6')).toBe(1_000_000);
    expect(parseCount('rows', '250k')).toBe(250_000);
    expect(() => parseCount('rows', '0')).toThrow(/positive/);
    expect(() => parseGenerateArgs(['--rows', '10', '--out', 'x', '--split-by-day', 'd'])).toThrow(/exclude/);
    expect(() => parseGenerateArgs(['--days', '3', '--dirty', '0.1'])).toThrow(/needs --rows/);
    expect(() => parseGenerateArgs(['--rows', '10', '--dirty', '2'])).toThrow(/from 0 to 1/);
    expect(() => parseGenerateArgs(['--rows', '10', '--from', '2011-02-30'])).toThrow(/YYYY-MM-DD/);
    expect(parseGenerateArgs(['--rows', '10', '--out', 'f.csv']).manifest).toBe('f.csv.manifest.json');
    expect(dayOf('2010-12-02')).toBe(1);
  });

  it('draws alias-table indices in proportion to their weights', () => {
    const table = new AliasTable([1, 0, 3, 6]);
    const rng = new Rng(5);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 100_000; i++) counts[table.sample(rng)]!++;
    expect(counts[1]).toBe(0);
    expect(counts[0]! / 100_000).toBeCloseTo(0.1, 1);
    expect(counts[2]! / 100_000).toBeCloseTo(0.3, 1);
    expect(counts[3]! / 100_000).toBeCloseTo(0.6, 1);
  });
});

describe('dirty records', () => {
  const clean: Fields = ['536365', '85123A', '"HEART, WHITE "', '6', '2010-12-01 08:26:00', '2.55', '17850.0', 'United Kingdom'];
  const original = parseCsv(clean.join(',') + '\n')[0]!;

  it('breaks exactly the field each quarantine reason names, and keeps eight fields', () => {
    const field = { missing_invoice_no: 0, missing_stock_code: 1, bad_quantity: 3, bad_unit_price: 5, bad_invoice_date: 4, bad_customer_id: 6 };
    for (const reason of QUARANTINE_REASONS) {
      for (let v = 0; v < 4; v++) {
        const rec = parseCsv(renderDefect(reason, clean, v) as string);
        expect(rec, reason).toHaveLength(1);
        expect(rec[0], reason).toHaveLength(8);
        rec[0]!.forEach((value, i) => (i === field[reason] ? expect(value, reason).not.toBe(original[i]) : expect(value, reason).toBe(original[i])));
      }
    }
  });

  it('makes the records the loader must reject', () => {
    expect([7, 9]).toContain(parseCsv(renderDefect('field_count', clean, 0) as string)[0]!.length);
    expect([7, 9]).toContain(parseCsv(renderDefect('field_count', clean, 1) as string)[0]!.length);
    for (const v of [0, 1]) {
      const bytes = renderDefect('invalid_utf8', clean, v) as Buffer;
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow();
    }
    expect(renderDefect('nul_byte', clean, 0) as string).toContain('\u0000');
    expect(Buffer.byteLength(renderDefect('record_too_large', clean, 0) as string)).toBeGreaterThan(1024 * 1024);
    expect(TOO_LARGE_BYTES).toBeGreaterThan(1024 * 1024);
    const open = renderDefect('unterminated_quote', clean, 0) as string;
    expect(open.split('"').length % 2).toBe(0); // an odd number of quotes: one never closes
  });

  it('writes the valid variants so that trimmed and parsed they equal the original', () => {
    for (const variant of CLEAN_VARIANTS) {
      const rec = parseCsv(renderDefect(variant, clean, 0) as string)[0]!.map((v) => v.trim());
      expect(rec, variant).toHaveLength(8);
      const same = [0, 1, 3, 5, 7].every((i) => rec[i] === original[i]!.trim());
      expect(same, variant).toBe(true);
      if (variant === 'us_date') expect(rec[4]).toBe('12/1/2010 8:26');
      else expect(rec[4]).toBe(original[4]);
      expect(Number(rec[6])).toBe(17850);
      if (variant === 'quoted_newline') expect(rec[2]).toBe('HEART, WHITE\n(see "note")');
      else expect(rec[2]).toBe('HEART, WHITE');
    }
  });
});
