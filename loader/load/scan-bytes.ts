/** Byte-level helpers of the record scanner (pure): comma counting, line digits, per-record checks. */
import { isUtf8 } from 'node:buffer';

import type { RejectReason } from './scan.js';

const CR = 13;
const QUOTE = 0x22;
const COMMA = 0x2c;

/**
 * Commas in data[start, end), four bytes at a time where it can (SWAR: a byte of x ^ 0x2c2c2c2c is zero
 * exactly where data has a comma; the expression below sets the top bit of exactly those bytes).
 * `words` views the same memory, which starts 4-byte aligned.
 */
export function countCommas(data: Buffer, words: Int32Array, start: number, end: number): number {
  let c = 0;
  let i = start;
  const aligned = (start + 3) & ~3;
  const wordEnd = end >> 2;
  if (aligned >> 2 >= wordEnd) {
    for (; i < end; i++) if (data[i] === COMMA) c++;
    return c;
  }
  for (; i < aligned; i++) if (data[i] === COMMA) c++;
  for (let k = aligned >> 2; k < wordEnd; k++) {
    const x = words[k]! ^ 0x2c2c2c2c;
    const y = ~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x | 0x7f7f7f7f);
    c += Math.imul(y >>> 7, 0x01010101) >>> 24;
  }
  for (i = wordEnd << 2; i < end; i++) if (data[i] === COMMA) c++;
  return c;
}

/** The current line number as ASCII digits, right-aligned in d[start, 24): counting up is cheaper than formatting. */
export class LineDigits {
  readonly d = Buffer.alloc(24);
  start = 24;

  set(n: number): void {
    const text = String(n);
    this.start = 24 - text.length;
    this.d.write(text, this.start, 'latin1');
  }

  /** The line moved on by `by` to `line`. */
  advance(by: number, line: number): void {
    if (by !== 1) return this.set(line);
    const d = this.d;
    for (let i = 23; ; i--) {
      if (i < this.start) {
        d[i] = 49;
        this.start = i;
        return;
      }
      if (d[i] !== 57) {
        d[i]!++;
        return;
      }
      d[i] = 48;
    }
  }
}

export function recordProblem(record: Buffer): RejectReason | undefined {
  if (!isUtf8(record)) return 'invalid_utf8';
  if (record.indexOf(0) !== -1) return 'nul_byte';
  return undefined;
}

/** A carriage return outside quotes that does not end the record (COPY would refuse it unquoted). */
export function hasBareCr(data: Buffer, start: number, end: number): boolean {
  let inQuote = false;
  for (let i = start; i < end; i++) {
    if (data[i] === QUOTE) inQuote = !inQuote;
    else if (data[i] === CR && !inQuote) return true;
  }
  return false;
}
