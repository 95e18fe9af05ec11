/**
 * One JSON record → the eight canonical fields as a CSV record for COPY (pure, the JSON hot path).
 *
 * Keys match the canonical columns by the CSV header rules (header.ts). Values (contract §1b): an absent
 * key or null → NULL (an unquoted empty CSV field); a string → its value, always quoted (so "" stays '');
 * a number → its JSON text exactly as written; true/false → that text; an object or array → the record
 * is rejected (nested_value). Numbers are never turned into JS numbers: `12.50` stays `12.50`.
 */
import { isUtf8 } from 'node:buffer';

import { LoadError } from './errors.js';
import { CANONICAL, canonicalOf, type Canonical } from './header.js';
import { at, endOfLiteral, endOfNumber, endOfString, endOfValue, INVALID, QUOTE, skipWs, writeUnescaped } from './json-value.js';

/** ok; a reject reason; or `not_object`: valid JSON that is not an object */
export type RecordOutcome = 'ok' | 'invalid_json' | 'not_object' | 'nested_value' | 'nul_byte' | 'invalid_utf8';

const COLUMNS = CANONICAL.length;
const RAW = 1;
const PLAIN = 2;
const ESCAPED = 3;
const KEY_CACHE_MAX = 4096;

export class RecordParser {
  /** canonical columns that some record had as a key (null values included) */
  get seen(): Set<Canonical> {
    return new Set(CANONICAL.filter((_, col) => this.seenCol[col] === 1));
  }
  private readonly seenCol = new Uint8Array(COLUMNS);
  private seenAll = false;
  /** keys that name no canonical column (first 20, as written) */
  readonly unknown = new Set<string>();
  /** records that parsed as objects */
  objects = 0;
  private readonly keys = new Map<string, number>();
  private readonly kind = new Uint8Array(COLUMNS);
  private readonly vs = new Int32Array(COLUMNS);
  private readonly ve = new Int32Array(COLUMNS);
  private readonly ks = new Int32Array(COLUMNS);
  private readonly ke = new Int32Array(COLUMNS);
  private readonly present = new Uint8Array(COLUMNS);
  /** the keys of the previous record by position, quotes included (records mostly repeat their keys in one order) */
  private readonly lastKey: Buffer[] = [];
  private readonly lastCol: number[] = [];
  private readonly esc = new Uint8Array(1);
  private buf: Buffer = Buffer.alloc(0);

  /** Column index of a key (raw bytes b[s, e), quotes included), -1 for an unknown key. */
  private column(b: Buffer, s: number, e: number, escaped: boolean): number {
    const raw = b.toString('latin1', s, e);
    let k = this.keys.get(raw);
    if (k !== undefined) return k;
    const name = escaped ? (JSON.parse(b.toString('utf8', s, e)) as string) : b.toString('utf8', s + 1, e - 1);
    const c = canonicalOf(name);
    k = c === undefined ? -1 : CANONICAL.indexOf(c);
    if (k < 0 && this.unknown.size < 20) this.unknown.add(name);
    if (this.keys.size < KEY_CACHE_MAX) this.keys.set(raw, k);
    return k;
  }

  /** Parse the record b[start, end) (one JSON value, whitespace around allowed). Then `write` it if ok. */
  parse(b: Buffer, start: number, end: number, lineNo: number): RecordOutcome {
    this.buf = b;
    const kind = this.kind;
    kind.fill(0);
    this.present.fill(0);
    let i = skipWs(b, start, end);
    if (at(b, i, end) !== 0x7b) {
      const v = endOfValue(b, i, end);
      return v >= 0 && skipWs(b, v, end) === end ? 'not_object' : 'invalid_json';
    }
    if (!isUtf8(b.subarray(start, end))) return 'invalid_utf8';
    let nested = false;
    let member = 0;
    i = skipWs(b, i + 1, end);
    if (at(b, i, end) === 0x7d) i++;
    else
      for (;;) {
        if (at(b, i, end) !== QUOTE) return 'invalid_json';
        const ks = i;
        // the previous record's key at this position, byte for byte: then the string ends where that one did
        const prev = this.lastKey[member];
        let col = -1;
        let same = prev !== undefined && i + prev.length <= end;
        if (same) {
          const n = prev!.length;
          for (let k = 1; k < n; k++) {
            if (prev![k] !== b[i + k]) {
              same = false;
              break;
            }
          }
        }
        if (same) {
          i += prev!.length;
          col = this.lastCol[member]!;
        } else {
          i = endOfString(b, i, end, this.esc);
          if (i < 0) return 'invalid_json';
          col = this.column(b, ks, i, this.esc[0] === 1);
          if (member < 64) {
            this.lastKey[member] = Buffer.from(b.subarray(ks, i));
            this.lastCol[member] = col;
          }
        }
        member++;
        const ke = i;
        i = skipWs(b, i, end);
        if (at(b, i, end) !== 0x3a) return 'invalid_json';
        i = skipWs(b, i + 1, end);
        const vs = i;
        const c = at(b, i, end);
        let k = 0;
        if (c === QUOTE) {
          i = endOfString(b, i, end, this.esc);
          k = this.esc[0] ? ESCAPED : PLAIN;
        } else if (c === 0x7b || c === 0x5b) {
          i = endOfValue(b, i, end);
          nested ||= col >= 0;
        } else if (c === 0x6e) i = endOfLiteral(b, i, end, 'null');
        else if (c === 0x74) (i = endOfLiteral(b, i, end, 'true')), (k = RAW);
        else if (c === 0x66) (i = endOfLiteral(b, i, end, 'false')), (k = RAW);
        else (i = endOfNumber(b, i, end)), (k = RAW);
        if (i < 0) return 'invalid_json';
        if (col >= 0) {
          if (this.present[col] === 1) {
            throw new LoadError(`keys ${b.toString('utf8', this.ks[col]!, this.ke[col]!)} and ${b.toString('utf8', ks, ke)} both name ${CANONICAL[col]}`, lineNo);
          }
          this.present[col] = 1;
          this.ks[col] = ks;
          this.ke[col] = ke;
          this.vs[col] = vs;
          this.ve[col] = i;
          kind[col] = k;
        }
        i = skipWs(b, i, end);
        if (at(b, i, end) === 0x7d) {
          i++;
          break;
        }
        if (at(b, i, end) !== 0x2c) return 'invalid_json';
        i = skipWs(b, i + 1, end);
      }
    if (skipWs(b, i, end) !== end) return 'invalid_json';
    this.objects++;
    if (!this.seenAll) {
      let all = true;
      for (let col = 0; col < COLUMNS; col++) all = (this.seenCol[col] ||= this.present[col]!) === 1 && all;
      this.seenAll = all;
    }
    if (nested) return 'nested_value';
    return 'ok';
  }

  /** Upper bound of the bytes `write` adds for a record of `len` bytes. */
  static maxOutput(len: number): number {
    return 2 * len + COLUMNS * 3 + 8;
  }

  /** Write the parsed record's fields (",f1,…,f8") at out[o]; -2 when a value holds a NUL (\u0000), INVALID for a lone surrogate. */
  write(out: Buffer, o: number): number {
    const b = this.buf;
    for (let col = 0; col < COLUMNS; col++) {
      out[o++] = 0x2c;
      const k = this.kind[col];
      if (k === RAW || k === PLAIN) {
        const vs = this.vs[col]!;
        const ve = this.ve[col]!;
        if (ve - vs > 48) o += b.copy(out, o, vs, ve);
        else for (let j = vs; j < ve; j++) out[o++] = b[j]!;
      } else if (k === ESCAPED) {
        o = writeUnescaped(b, this.vs[col]!, this.ve[col]!, out, o);
        if (o < 0) return o;
      }
    }
    return o;
  }
}
