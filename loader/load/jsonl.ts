/**
 * JSON Lines / NDJSON framing (pure): bytes in, one callback per line that holds something. Lines end at
 * LF (a CR before it is dropped); blank lines are not records but count as lines; a leading BOM is
 * skipped; a line over maxRecordBytes is a record_too_large reject (its first maxRawBytes kept).
 */
import { isWs } from './json-value.js';

export interface LineSink {
  /** the line data[start, end), which starts on physical line lineNo */
  line(data: Buffer, start: number, end: number, lineNo: number): void;
  tooLarge(lineNo: number, raw: Buffer): void;
}

const LF = 10;
const CR = 13;

export class JsonLinesScanner {
  /** the physical line the next line starts on */
  line: number;
  private carry: Buffer | undefined;
  private skipping: { lineNo: number; raw: Buffer } | undefined;
  private first = true;

  constructor(
    private readonly sink: LineSink,
    firstLine = 1,
    private readonly maxRecord = 1024 * 1024,
    private readonly maxRaw = 64 * 1024,
  ) {
    this.line = firstLine;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    let data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = undefined;
    let pos = 0;
    if (this.first) {
      if (data.length < 3 && data[0] === 0xef) {
        this.carry = data;
        return;
      }
      this.first = false;
      if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) pos = 3;
    }
    if (this.skipping) {
      const nl = data.indexOf(LF, pos);
      const s = this.skipping;
      const take = (end: number) => {
        if (s.raw.length < this.maxRaw) s.raw = Buffer.concat([s.raw, data.subarray(pos, Math.min(end, pos + this.maxRaw - s.raw.length))]);
      };
      if (nl < 0) return take(data.length);
      take(nl > pos && data[nl - 1] === CR ? nl - 1 : nl);
      this.skipping = undefined;
      this.sink.tooLarge(s.lineNo, s.raw);
      this.line++;
      pos = nl + 1;
    }
    for (;;) {
      const nl = data.indexOf(LF, pos);
      if (nl < 0) break;
      this.emit(data, pos, nl > pos && data[nl - 1] === CR ? nl - 1 : nl);
      this.line++;
      pos = nl + 1;
    }
    if (pos >= data.length) return;
    if (data.length - pos > this.maxRecord) {
      this.skipping = { lineNo: this.line, raw: Buffer.from(data.subarray(pos, pos + this.maxRaw)) };
      return;
    }
    this.carry = pos === 0 ? data : data.subarray(pos);
    if (this.carry.length < 64 * 1024 && this.carry.buffer.byteLength > 4 * 64 * 1024) this.carry = Buffer.from(this.carry);
  }

  /** The input ended: the last line may lack its LF. */
  end(): void {
    if (this.skipping) {
      this.sink.tooLarge(this.skipping.lineNo, this.skipping.raw);
      this.skipping = undefined;
      this.line++;
    } else if (this.carry) {
      const data = this.carry;
      const start = this.first && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf ? 3 : 0;
      this.emit(data, start, data[data.length - 1] === CR ? data.length - 1 : data.length);
      this.line++;
    }
    this.carry = undefined;
  }

  private emit(data: Buffer, start: number, end: number): void {
    let i = start;
    while (i < end && isWs(data[i]!)) i++;
    if (i === end) return;
    if (end - start > this.maxRecord) this.sink.tooLarge(this.line, Buffer.from(data.subarray(start, start + this.maxRaw)));
    else this.sink.line(data, start, end, this.line);
  }
}
