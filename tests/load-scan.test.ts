/** Unit tests of the loader's pure parts: header mapping, fields, the record scanner, arguments. */
import { describe, expect, it } from 'vitest';

import { parseLoadArgs } from '../loader/load/args.js';
import { splitFields, writeFields } from '../loader/load/fields.js';
import { splitHeader } from '../loader/load/header-read.js';
import { mapHeader, normalizeHeaderName } from '../loader/load/header.js';
import { resultLine, totals } from '../loader/load/report.js';
import { RecordScanner, type Reject } from '../loader/load/scan.js';

const HEADER8 = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';

/** Run the scanner over input cut into chunks of `size` bytes; returns the COPY text and the rejects. */
function scan(input: Buffer | string, size: number, opts: { fieldCount?: number; keep?: boolean[]; maxRecordBytes?: number; maxRawBytes?: number } = {}) {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input, 'utf8');
  const out: Buffer[] = [];
  const rejects: Reject[] = [];
  const s = new RecordScanner({
    fieldCount: opts.fieldCount ?? 3,
    keep: opts.keep,
    prefix: Buffer.from('7,'),
    firstLine: 2,
    onData: (b) => out.push(Buffer.from(b)),
    onReject: (r) => rejects.push(r),
    maxRecordBytes: opts.maxRecordBytes,
    maxRawBytes: opts.maxRawBytes,
  });
  for (let i = 0; i < bytes.length; i += size) s.push(bytes.subarray(i, i + size));
  s.end();
  return { text: Buffer.concat(out).toString('latin1'), rejects: rejects.map((r) => ({ line: r.lineNo, reason: r.reason, raw: r.raw.toString('latin1') })), s };
}

/** The same result whatever the chunk size: every record boundary lands on every chunk boundary somewhere. */
function scanAllChunkings(input: Buffer | string, opts: Parameters<typeof scan>[2] = {}) {
  const whole = scan(input, 1 << 30, opts);
  for (const size of [1, 2, 3, 5, 7, 16, 64]) {
    const cut = scan(input, size, opts);
    expect({ size, text: cut.text, rejects: cut.rejects }).toEqual({ size, text: whole.text, rejects: whole.rejects });
  }
  expect(whole.s.rowsRead).toBe(whole.s.rowsWritten + whole.s.rowsRejected);
  return whole;
}

describe('header mapping (contract §1)', () => {
  it('accepts every alias in any order, case, spacing and underscores', () => {
    expect(normalizeHeaderName(' Customer_ ID ')).toBe('customerid');
    const r = mapHeader(['country', 'PRICE', 'customer id', 'Invoice_Date', 'quantity', 'Description', 'Stock Code', 'Invoice']);
    expect(r).toEqual({
      ok: true,
      map: { fieldCount: 8, extras: [], columns: ['country', 'unit_price', 'customer_id', 'invoice_date', 'quantity', 'description', 'stock_code', 'invoice_no'] },
    });
  });

  it('keeps extra columns apart and names every missing column', () => {
    const r = mapHeader([...HEADER8.split(','), 'Channel']);
    expect(r.ok && r.map.extras).toEqual(['Channel']);
    expect(r.ok && r.map.columns[8]).toBe(null);
    expect(mapHeader(['InvoiceNo', 'StockCode', 'Quantity'])).toEqual({
      ok: false,
      reason: 'missing columns description, invoice_date, unit_price, customer_id, country',
    });
  });

  it('refuses a column given twice under two aliases', () => {
    const r = mapHeader([...HEADER8.split(','), 'Invoice']);
    expect(r).toEqual({ ok: false, reason: 'column given twice: invoice_no (InvoiceNo, Invoice)' });
  });

  it('reads the header record: BOM removed, CRLF, quoted names, first record line', () => {
    const h = splitHeader(Buffer.from('\ufeff"Invoice No",B\r\nx,y\n'), false);
    expect(h?.names).toEqual(['Invoice No', 'B']);
    expect(h?.rest.toString()).toBe('x,y\n');
    expect(h?.firstLine).toBe(2);
    expect(splitHeader(Buffer.from('a,"b\nc"'), false)).toBeUndefined();
    expect(splitHeader(Buffer.from('a,"b\nc"\nz'), false)?.firstLine).toBe(3);
    expect(() => splitHeader(Buffer.from('a,"b'), true)).toThrow(/line 1: the header has an unterminated quote/);
  });
});

describe('fields (PostgreSQL CSV rules)', () => {
  it('splits quoted commas, doubled quotes and newlines, and knows NULL from empty', () => {
    const f = splitFields(Buffer.from('a,"b,c","say ""hi""",,"","x\r\ny"'), 0, 30);
    expect(f.map((x) => [x.value.toString(), x.quoted])).toEqual([
      ['a', false],
      ['b,c', true],
      ['say "hi"', true],
      ['', false],
      ['', true],
      ['x\r\ny', true],
    ]);
    const out = Buffer.alloc(100);
    const end = writeFields(out, 0, f);
    expect(out.subarray(0, end).toString()).toBe('"a","b,c","say ""hi""",,"","x\r\ny"');
  });
});

describe('record scanner', () => {
  it('forwards good records behind load_id and line_no, whatever the chunking', () => {
    const r = scanAllChunkings('a,b,c\nd,"e,f",g\n"h\ni",j,k\nl,m,n');
    expect(r.text).toBe('7,2,a,b,c\n7,3,d,"e,f",g\n7,4,"h\ni",j,k\n7,6,l,m,n\n');
    expect(r.rejects).toEqual([]);
    expect(r.s.rowsRead).toBe(4);
  });

  it('takes CRLF line ends off (quoted CRLF stays) and rewrites a record with a bare CR', () => {
    const r = scanAllChunkings('a,b,c\r\n"x\r\ny",b,c\r\nx\ry,b,c\r\n');
    expect(r.text).toBe('7,2,a,b,c\n7,3,"x\r\ny",b,c\n7,5,"x\ry","b","c"\n');
  });

  it('rejects each kind of bad record with its starting line and raw bytes, and goes on', () => {
    const input = Buffer.concat([
      Buffer.from('a,b,c\n'), // 2 good
      Buffer.from('too,few\n'), // 3 field_count
      Buffer.from('a,b,c,d\n'), // 4 field_count
      Buffer.from('a,'), Buffer.from([0xff, 0xfe]), Buffer.from(',c\n'), // 5 invalid_utf8
      Buffer.from('a,\u0000,c\n'), // 6 nul_byte
      Buffer.from(`x,${'L'.repeat(300)},z\n`), // 7 record_too_large (limit 100 here)
      Buffer.from('\n'), // 8 blank line: one empty field
      Buffer.from('"q\nq",b,c\n'), // 9-10 good
      Buffer.from('d,e,"open\nnever closed\n'), // 11 unterminated_quote, to the end
    ]);
    const r = scanAllChunkings(input, { maxRecordBytes: 100, maxRawBytes: 20 });
    expect(r.text).toBe('7,2,a,b,c\n7,9,"q\nq",b,c\n');
    expect(r.rejects).toEqual([
      { line: 3, reason: 'field_count', raw: 'too,few' },
      { line: 4, reason: 'field_count', raw: 'a,b,c,d' },
      { line: 5, reason: 'invalid_utf8', raw: 'a,\xff\xfe,c' },
      { line: 6, reason: 'nul_byte', raw: 'a,\x00,c' },
      { line: 7, reason: 'record_too_large', raw: `x,${'L'.repeat(18)}` },
      { line: 8, reason: 'field_count', raw: '' },
      { line: 11, reason: 'unterminated_quote', raw: 'd,e,"open\nnever clos' },
    ]);
    expect(r.s.rowsRead).toBe(9);
  });

  it('keeps counting lines after a too-large multi-line record', () => {
    const r = scanAllChunkings(`a,"${'x\n'.repeat(60)}",c\nd,e,f\n`, { maxRecordBytes: 50 });
    expect(r.rejects.map((x) => [x.line, x.reason])).toEqual([[2, 'record_too_large']]);
    expect(r.text).toBe('7,63,d,e,f\n');
  });

  it('writes only the kept columns when the file has extras', () => {
    const r = scanAllChunkings('a,extra,b,c\n"x,1","drop, me",y,\nx\ry,drop,b,""\n', { fieldCount: 4, keep: [true, false, true, true] });
    expect(r.text).toBe('7,2,a,b,c\n7,3,"x,1",y,\n7,4,"x\ry","b",""\n');
  });

  it('keeps multi-byte UTF-8 cut across chunks', () => {
    const r = scanAllChunkings('€,ü,日本\n');
    expect(Buffer.from(r.text, 'latin1').toString('utf8')).toBe('7,2,€,ü,日本\n');
    expect(r.rejects).toEqual([]);
  });
});

describe('load arguments and report', () => {
  it('parses options and refuses bad ones', () => {
    expect(parseLoadArgs(['-j', '3', '--force', 'a.csv', '-'])).toEqual({
      sources: ['a.csv', '-'], jobs: 3, force: true, json: false, quiet: false, help: false,
      http: { headers: [], timeoutSeconds: 30, retries: 3, maxPages: 10000, backoffMs: 500 },
    });
    expect(() => parseLoadArgs(['--jobs', 'x'])).toThrow(/--jobs must be a whole number/);
    expect(() => parseLoadArgs(['--nope'])).toThrow(/Unknown option '--nope'/);
  });

  it('sums results and words each line', () => {
    const loaded = { source: 'a.csv', status: 'loaded' as const, loadId: 4, rowsRead: 3, rowsStaged: 2, rowsRejected: 1, seconds: 0.5 };
    const failed = { source: 'b.csv', status: 'failed' as const, rowsRead: 0, rowsStaged: 0, rowsRejected: 0, seconds: 0, error: 'line 1: missing column country' };
    expect(totals([loaded, failed], 1)).toMatchObject({ sources: 2, loaded: 1, failed: 1, rowsStaged: 2, rowsRejected: 1 });
    expect(resultLine(failed)).toBe('failed   b.csv: line 1: missing column country');
    expect(resultLine(loaded)).toContain('staged 2  rejected 1');
  });
});
