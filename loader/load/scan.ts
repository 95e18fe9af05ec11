/**
 * The record scanner (pure, the hot path): CSV bytes in, COPY-ready CSV bytes out, one pass.
 *
 * Each record is found with the quote-toggle rule PostgreSQL's COPY uses (a newline ends a record
 * unless inside quotes), its fields counted, and its bytes copied unchanged behind "load_id,line_no,"
 * — so the server parses exactly the fields we counted. UTF-8 and NUL checks run natively on whole
 * chunks; only a chunk that fails them is checked record by record. A record is rewritten (fields
 * re-quoted) only when the file has extra columns to drop or the record holds a bare carriage return.
 */
import { isUtf8 } from 'node:buffer';

import { maxWrittenLength, splitFields, writeFields } from './fields.js';
import { countCommas, hasBareCr, LineDigits, recordProblem } from './scan-bytes.js';

export type RejectReason = 'field_count' | 'unterminated_quote' | 'invalid_utf8' | 'nul_byte' | 'record_too_large' | 'invalid_json' | 'nested_value';
export interface Reject {
  lineNo: number;
  reason: RejectReason;
  /** the record's bytes without its line terminator, cut at maxRawBytes */
  raw: Buffer;
}

export interface ScannerOptions {
  /** fields per record: the header's */
  fieldCount: number;
  /** per file column, whether it is written; omit to write every column (the fast path) */
  keep?: boolean[];
  /** bytes written before each record's line number, e.g. "17," for load 17 */
  prefix: Buffer;
  /** physical line on which the first record starts */
  firstLine: number;
  onData: (bytes: Buffer) => void;
  onReject: (reject: Reject) => void;
  maxRecordBytes?: number;
  maxRawBytes?: number;
}

const LF = 10;
const CR = 13;
const QUOTE = 0x22;
const COMMA = 0x2c;

interface Skipping { lineNo: number; raw: Buffer; inQuote: boolean; newlines: number }

export class RecordScanner {
  rowsRead = 0;
  rowsWritten = 0;
  rowsRejected = 0;
  private line: number;
  private readonly digits = new LineDigits();
  private carry: Buffer | undefined;
  private skipping: Skipping | undefined;
  private readonly maxRecord: number;
  private readonly maxRaw: number;

  constructor(private readonly opt: ScannerOptions) {
    this.line = opt.firstLine;
    this.maxRecord = opt.maxRecordBytes ?? 1024 * 1024;
    this.maxRaw = opt.maxRawBytes ?? 64 * 1024;
  }

  private pending: { w: Buffer; carry: number; room: number } | undefined;

  /**
   * A buffer to put up to `n` new bytes in, at `offset` (the unfinished record from before sits in
   * front of it); then call commit. Readers that can (files) read straight into it: no copy.
   */
  prepare(n: number): { buf: Buffer; offset: number } {
    const carry = this.carry?.length ?? 0;
    const len = carry + n;
    // input, then room for its output (line numbers add a little per record; more goes to a new buffer)
    const w = Buffer.allocUnsafeSlow(len + len + (len >> 2) + 4096);
    if (this.carry) this.carry.copy(w, 0);
    this.carry = undefined;
    this.pending = { w, carry, room: n };
    return { buf: w, offset: carry };
  }

  /** `bytes` new bytes are in the prepared buffer: scan them. */
  commit(bytes: number): void {
    const p = this.pending;
    if (!p) throw new Error('commit without prepare');
    this.pending = undefined;
    if (bytes > p.room) throw new Error('commit of more bytes than prepared');
    this.process(p.w, p.carry + bytes, false);
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const { buf, offset } = this.prepare(chunk.length);
    chunk.copy(buf, offset);
    this.commit(chunk.length);
  }

  /** The input ended: the last record may lack its line terminator. */
  end(): void {
    if (this.skipping) {
      const s = this.skipping;
      this.reject(s.lineNo, s.inQuote ? 'unterminated_quote' : 'record_too_large', s.raw);
      this.skipping = undefined;
    } else if (this.carry) {
      this.prepare(0);
      this.process(this.pending!.w, this.pending!.carry, true);
      this.pending = undefined;
    }
    this.carry = undefined;
  }

  private process(w: Buffer, len: number, final: boolean): void {
    const pos = this.skipping ? this.skip(w.subarray(0, len), 0) : 0;
    const rest = this.skipping ? len : this.scan(w, len, pos, final);
    if (rest < len) this.carry = w.subarray(rest, len);
  }

  private reject(lineNo: number, reason: RejectReason, raw: Buffer): void {
    this.rowsRead++;
    this.rowsRejected++;
    this.opt.onReject({ lineNo, reason, raw: Buffer.from(raw.subarray(0, this.maxRaw)) });
  }

  /** Continue a record over maxRecordBytes to its end; returns where the next record starts. */
  private skip(data: Buffer, from: number): number {
    const s = this.skipping!;
    const keepRaw = (end: number) => {
      if (s.raw.length < this.maxRaw) s.raw = Buffer.concat([s.raw, data.subarray(from, Math.min(end, from + this.maxRaw - s.raw.length))]);
    };
    for (let i = from; i < data.length; i++) {
      const c = data[i];
      if (c === QUOTE) s.inQuote = !s.inQuote;
      else if (c === LF) {
        if (!s.inQuote) {
          keepRaw(i > from && data[i - 1] === CR ? i - 1 : i);
          this.skipping = undefined;
          this.reject(s.lineNo, 'record_too_large', s.raw);
          this.line = s.lineNo + s.newlines + 1;
          return i + 1;
        }
        s.newlines++;
      }
    }
    keepRaw(data.length);
    return data.length;
  }

  /**
   * Scan the complete records in w[from, len) (carry + new bytes); returns where the unfinished tail starts.
   * Output goes to w after the input: one buffer, so a good record moves with copyWithin (no allocation).
   */
  private scan(w: Buffer, len: number, from: number, final: boolean): number {
    const data = w.subarray(0, len);
    const words = new Int32Array(w.buffer, w.byteOffset, w.length >> 2);
    let o = len;
    let cap = w.length;
    let buf = w;
    const fieldCount = this.opt.fieldCount;
    const prefix = this.opt.prefix;
    const checkEnd = final ? len : data.lastIndexOf(LF) + 1;
    const region = data.subarray(from, Math.max(from, checkEnd));
    const regionBad = region.length > 0 && (!isUtf8(region) || region.indexOf(0) !== -1);
    let nextQuote = data.indexOf(QUOTE, from);
    if (nextQuote < 0) nextQuote = len;
    let nextCr = data.indexOf(CR, from);
    if (nextCr < 0) nextCr = len;
    const digits = this.digits;
    digits.set(this.line);
    let pos = from;
    while (pos < len) {
      let end = data.indexOf(LF, pos);
      let commas = 0;
      let newlines = 0;
      let bareCr = false;
      let inQuote = false;
      const quoted = nextQuote < (end < 0 ? len : end);
      if (quoted) {
        // a record with quotes: walk it byte by byte (rare)
        let i = pos;
        for (; i < len; i++) {
          const c = data[i]!;
          if (c === QUOTE) inQuote = !inQuote;
          else if (c === COMMA) {
            if (!inQuote) commas++;
          } else if (c === LF) {
            if (!inQuote) break;
            newlines++;
          } else if (c === CR && !inQuote && i + 1 < len && data[i + 1] !== LF) bareCr = true;
        }
        end = i < len ? i : -1;
      } else if (end >= 0) commas = countCommas(data, words, pos, end);
      const lineNo = this.line;
      let recEnd: number;
      let next: number;
      if (end >= 0) {
        recEnd = end > pos && data[end - 1] === CR ? end - 1 : end;
        next = end + 1;
      } else if (!final) {
        if (len - pos > this.maxRecord) {
          this.skipping = { lineNo, raw: Buffer.from(data.subarray(pos, pos + this.maxRaw)), inQuote, newlines };
          pos = len;
        }
        break;
      } else if (inQuote) {
        this.reject(lineNo, 'unterminated_quote', data.subarray(pos, len));
        pos = len;
        break;
      } else {
        recEnd = data[len - 1] === CR ? len - 1 : len;
        if (!quoted) commas = countCommas(data, words, pos, recEnd);
        next = len;
      }
      if (nextCr < recEnd && !bareCr) bareCr = hasBareCr(data, pos, recEnd);
      this.line += newlines + 1;
      let reason: RejectReason | undefined;
      if (recEnd - pos > this.maxRecord) reason = 'record_too_large';
      else if (regionBad) reason = recordProblem(data.subarray(pos, recEnd));
      if (reason === undefined && commas + 1 !== fieldCount) reason = 'field_count';
      if (reason !== undefined) this.reject(lineNo, reason, data.subarray(pos, recEnd));
      else {
        const fields = bareCr ? this.rewrite(data, pos, recEnd) : undefined;
        const need = prefix.length + 24 + (fields ? maxWrittenLength(fields) : recEnd - pos);
        if (o + need > cap) {
          // out of room: hand over what is written, continue in a fresh buffer
          this.opt.onData(buf.subarray(buf === w ? len : 0, o));
          cap = need + Math.max(64 * 1024, (len - pos) >> 1);
          buf = Buffer.allocUnsafeSlow(cap);
          o = 0;
        }
        for (let k = 0; k < prefix.length; k++) buf[o++] = prefix[k]!;
        for (let k = digits.start; k < 24; k++) buf[o++] = digits.d[k]!;
        buf[o++] = COMMA;
        if (fields) o = writeFields(buf, o, fields);
        else if (this.opt.keep) o = this.keptFields(data, pos, recEnd, buf, o);
        else if (buf === w) {
          w.copyWithin(o, pos, recEnd);
          o += recEnd - pos;
        } else o += data.copy(buf, o, pos, recEnd);
        buf[o++] = LF;
        this.rowsRead++;
        this.rowsWritten++;
      }
      pos = next;
      digits.advance(newlines + 1, this.line);
      if (nextQuote < pos) {
        nextQuote = data.indexOf(QUOTE, pos);
        if (nextQuote < 0) nextQuote = len;
      }
      if (nextCr < pos) {
        nextCr = data.indexOf(CR, pos);
        if (nextCr < 0) nextCr = len;
      }
    }
    const start = buf === w ? len : 0;
    if (o > start) this.opt.onData(buf.subarray(start, o));
    return pos;
  }

  /** Extra columns dropped: the kept fields' bytes are copied as they are (a CSV field stays a CSV field). */
  private keptFields(data: Buffer, start: number, end: number, out: Buffer, o: number): number {
    const keep = this.opt.keep!;
    let k = 0;
    let fieldStart = start;
    let inQuote = false;
    let first = true;
    for (let i = start; i <= end; i++) {
      const c = i < end ? data[i] : COMMA;
      if (c === QUOTE) inQuote = !inQuote;
      else if (c === COMMA && !inQuote) {
        if (keep[k++]) {
          if (!first) out[o++] = COMMA;
          first = false;
          o += data.copy(out, o, fieldStart, i);
        }
        fieldStart = i + 1;
      }
    }
    return o;
  }

  private rewrite(data: Buffer, start: number, end: number) {
    const fields = splitFields(data, start, end);
    const keep = this.opt.keep;
    return keep ? fields.filter((_, k) => keep[k]) : fields;
  }
}
