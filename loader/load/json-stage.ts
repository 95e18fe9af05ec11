/**
 * A JSON source (one file, stdin, or every page of a pull) into COPY rows and rejects: framing
 * (jsonl.ts, json-doc.ts), the record parser (json-record.ts), CSV rows `load_id,line_no,f1,…,f8`.
 * line_no: the physical line (JSON Lines, counted on across pages) or the record's ordinal from 1
 * across pages (documents). At the end, a source whose records lack a canonical key fails.
 */
import { CopySink } from './copy.js';
import { decode } from './decode.js';
import { LoadError } from './errors.js';
import { CANONICAL } from './header.js';
import { JsonDocScanner } from './json-doc.js';
import { RecordParser, type RecordOutcome } from './json-record.js';
import { JsonLinesScanner } from './jsonl.js';
import { bodyNext } from './paging.js';
import type { Page, Pull } from './pull.js';
import type { Reject, RejectReason } from './scan.js';
import type { StageContext, Staged } from './stage.js';

export interface JsonStageInput {
  loadId: number;
  format: 'jsonl' | 'json';
  first: AsyncIterable<Buffer>;
  /** the URL of the page being read (body links resolve against it) */
  pageUrl(): string | undefined;
  /** the next page's text chunks, given the body's next link; undefined after the last page */
  next(bodyNext: string | undefined): Promise<AsyncIterable<Buffer> | undefined>;
  /** send rows on (and flush rejects, report progress) */
  write(rows: Buffer[], rowsRead: number): Promise<void>;
  reject(r: Reject): void;
}

const MAX_RAW = 64 * 1024;
const OUT_CHUNK = 1024 * 1024;

/** n (a whole number ≥ 0) as ASCII digits at out[o]; returns the new position. */
function writeDigits(out: Buffer, o: number, n: number): number {
  let len = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
  for (let k = len - 1, x = n; k >= 0; k--, x = Math.floor(x / 10)) out[o + k] = 48 + (x % 10);
  return o + len;
}

export async function stageJson(input: JsonStageInput): Promise<{ rowsRead: number; parser: RecordParser }> {
  const parser = new RecordParser();
  const prefix = Buffer.from(`${input.loadId},`);
  const ready: Buffer[] = [];
  let out = Buffer.allocUnsafeSlow(OUT_CHUNK);
  let o = 0;
  let rowsRead = 0;
  let ordinal = 0;

  const reject = (lineNo: number, reason: RejectReason, raw: Buffer) => {
    rowsRead++;
    input.reject({ lineNo, reason, raw: Buffer.from(raw.subarray(0, MAX_RAW)) });
  };
  const record = (data: Buffer, start: number, end: number, lineNo: number, lines: boolean) => {
    let r: RecordOutcome = parser.parse(data, start, end, lineNo);
    if (r === 'not_object') r = 'invalid_json';
    else if (r === 'invalid_json' && !lines) throw new LoadError(`record ${lineNo} is not valid JSON`);
    if (r === 'ok') {
      const need = prefix.length + 24 + RecordParser.maxOutput(end - start);
      if (o + need > out.length) {
        if (o > 0) ready.push(out.subarray(0, o));
        out = Buffer.allocUnsafeSlow(Math.max(OUT_CHUNK, need));
        o = 0;
      }
      const s = o;
      for (let k = 0; k < prefix.length; k++) out[o++] = prefix[k]!;
      o = writeDigits(out, o, lineNo);
      const e = parser.write(out, o);
      if (e >= 0) {
        o = e;
        out[o++] = 0x0a;
        rowsRead++;
        return;
      }
      o = s;
      r = e === -2 ? 'nul_byte' : 'invalid_utf8';
    }
    reject(lineNo, r, data.subarray(start, end));
  };

  let chunks: AsyncIterable<Buffer> | undefined = input.first;
  let line = 1;
  while (chunks) {
    let next: string | undefined;
    const base = input.pageUrl();
    const scanner =
      input.format === 'jsonl'
        ? new JsonLinesScanner({ line: (d, s, e, n) => record(d, s, e, n, true), tooLarge: (n, raw) => reject(n, 'record_too_large', raw) }, line)
        : new JsonDocScanner({
            record: (d, s, e) => record(d, s, e, ++ordinal, false),
            tooLarge: (raw) => reject(++ordinal, 'record_too_large', raw),
            member: (key, value) => {
              if (base) next ??= bodyNext(key, value, base);
            },
          });
    for await (const chunk of chunks) {
      scanner.push(chunk);
      if (o > 0) ready.push(out.subarray(0, o)), (out = out.subarray(o)), (o = 0);
      if (ready.length) await input.write(ready.splice(0), rowsRead);
    }
    scanner.end();
    if (scanner instanceof JsonLinesScanner) line = scanner.line;
    chunks = await input.next(next);
  }
  if (o > 0) ready.push(out.subarray(0, o));
  if (ready.length) await input.write(ready.splice(0), rowsRead);
  const missing = CANONICAL.filter((c) => !parser.seen.has(c));
  if (parser.objects > 0 && missing.length) {
    throw new LoadError(`missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: no record has ${missing.length > 1 ? 'these keys' : 'this key'}`);
  }
  return { rowsRead, parser };
}

/** A JSON source of a load: its records into COPY (one stream per connection for every page), rejects aside. */
export async function stageJsonSource(ctx: StageContext, format: 'jsonl' | 'json', first: AsyncIterable<Buffer>, pulled?: { pull: Pull; page: Page }): Promise<Staged> {
  const sql = `copy staging.transactions (load_id, line_no, ${CANONICAL.join(', ')}) from stdin with (format csv)`;
  const sink = new CopySink(ctx.conns, sql, ctx.opt.streams, ctx.opt.splitAfter);
  let page = pulled?.page;
  const json = await stageJson({
    loadId: ctx.loadId,
    format,
    first,
    pageUrl: () => page?.url,
    next: async (link) => {
      if (!pulled) return undefined;
      page = await pulled.pull.next(link);
      return page && (await decode(page.chunks, { hash: false })).chunks;
    },
    write: async (rows, rowsRead) => {
      await sink.write(rows);
      await ctx.flushFull();
      await ctx.settleSha(false);
      const bytes = pulled?.pull.bytes ?? ctx.input.rawBytes;
      ctx.opt.emit({ type: 'progress', source: ctx.source, bytes, totalBytes: pulled ? undefined : ctx.raw.size, rows: rowsRead });
    },
    reject: (r) => ctx.reject(r),
  });
  if (json.parser.unknown.size) ctx.opt.emit({ type: 'note', source: ctx.source, message: `keys ignored: ${[...json.parser.unknown].join(', ')}` });
  await ctx.settleSha(true);
  return { rowsRead: json.rowsRead, rowsStaged: await sink.finish(), rawBytes: 0 };
}
