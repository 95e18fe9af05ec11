/**
 * A JSON document as a stream (pure): `[ {…}, … ]`, or `{ …, "key": [ {…}, … ], … }`. The elements of
 * the records array are handed over one at a time (their bytes, for the record parser); the document is
 * never held whole. In an object, the records are the first member whose value is an array; a second
 * array member fails the document (which one would be meant is a guess). Other members are parsed (up
 * to 1 MiB each; larger ones are skipped unread) and handed over, e.g. for a next-page link. Anything that is not a JSON document, or
 * ends before the document does, is an error; an element over maxRecordBytes is record_too_large.
 */
import { LoadError } from './errors.js';
import { isWs } from './json-value.js';

export interface DocSink {
  record(data: Buffer, start: number, end: number): void;
  tooLarge(raw: Buffer): void;
  member(key: string, value: unknown): void;
}

type State = 'start' | 'arr-first' | 'arr-next' | 'arr-elem' | 'obj-first' | 'obj-key' | 'obj-colon' | 'obj-value' | 'obj-next' | 'done';
type Kind = 'record' | 'member' | 'key';

/** A value being found: where its bytes end is known once its brackets balance (strings respected). */
interface Extent { pos: number; depth: number; inStr: boolean; esc: boolean; scalar: boolean }

function startExtent(c: number, pos: number): Extent {
  return { pos: pos + 1, depth: c === 0x7b || c === 0x5b ? 1 : 0, inStr: c === 0x22, esc: false, scalar: c !== 0x22 && c !== 0x7b && c !== 0x5b };
}

/** Index after the value's last byte, or -1 when data ends first (st then resumes at data.length). */
function extent(data: Buffer, st: Extent): number {
  let { depth, inStr, esc } = st;
  for (let k = st.pos; k < data.length; k++) {
    const c = data[k]!;
    if (st.scalar) {
      if (c === 0x2c || c === 0x5d || c === 0x7d || isWs(c)) return k;
    } else if (inStr) {
      if (esc) esc = false;
      else if (c === 0x5c) esc = true;
      else if (c === 0x22) {
        inStr = false;
        if (depth === 0) return k + 1;
      }
    } else if (c === 0x22) inStr = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (--depth === 0) return k + 1;
    }
  }
  Object.assign(st, { pos: data.length, depth, inStr, esc });
  return -1;
}

export class JsonDocScanner {
  /** the key of the records array (object documents) */
  recordsKey: string | undefined;
  private state: State = 'start';
  private root: 'array' | 'object' | undefined;
  private carry: Buffer | undefined;
  private kind: Kind | undefined;
  private ext: Extent | undefined;
  private skipRaw: Buffer | undefined;
  private key = '';
  private base = 0;

  constructor(
    private readonly sink: DocSink,
    private readonly maxRecord = 1024 * 1024,
    private readonly maxRaw = 64 * 1024,
  ) {}

  private fail(what: string, at: number): never {
    throw new LoadError(`not valid JSON: ${what} at byte ${this.base + at + 1}`);
  }

  push(chunk: Buffer): void {
    const data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = undefined;
    let pos = 0;
    let vstart = 0;
    while (pos < data.length || this.kind) {
      if (this.kind) {
        const e = extent(data, this.ext!);
        if (e < 0) {
          if (this.skipRaw) this.ext!.pos = 0;
          else if (data.length - vstart > this.maxRecord) {
            this.skipRaw = Buffer.from(data.subarray(vstart, vstart + this.maxRaw));
            this.ext!.pos = 0;
          } else {
            this.carry = data.subarray(vstart);
            this.ext!.pos -= vstart;
          }
          this.base += this.skipRaw ? data.length : vstart;
          return;
        }
        this.value(data, vstart, e);
        pos = e;
        continue;
      }
      const c = data[pos]!;
      if (isWs(c) || (this.state === 'start' && pos < 3 && (c === 0xef || c === 0xbb || c === 0xbf))) {
        pos++;
        continue;
      }
      const begin = (kind: Kind) => {
        this.kind = kind;
        this.ext = startExtent(c, pos);
        vstart = pos;
      };
      switch (this.state) {
        case 'start':
          if (c === 0x5b) (this.root = 'array'), (this.state = 'arr-first');
          else if (c === 0x7b) (this.root = 'object'), (this.state = 'obj-first');
          else this.fail('not an array or an object', pos);
          break;
        case 'arr-first':
        case 'arr-next':
          if (c === 0x5d) {
            this.state = this.root === 'array' ? 'done' : 'obj-next';
            break;
          }
          if (this.state === 'arr-next') {
            if (c !== 0x2c) this.fail('expected , or ] after a record', pos);
            this.state = 'arr-elem';
            break;
          }
          begin('record');
          continue;
        case 'arr-elem':
          if (c === 0x5d || c === 0x2c) this.fail('expected a record', pos);
          begin('record');
          continue;
        case 'obj-first':
        case 'obj-key':
          if (c === 0x7d && this.state === 'obj-first') this.state = 'done';
          else if (c !== 0x22) this.fail('expected a key', pos);
          else {
            begin('key');
            continue;
          }
          break;
        case 'obj-colon':
          if (c !== 0x3a) this.fail('expected :', pos);
          this.state = 'obj-value';
          break;
        case 'obj-value':
          if (c === 0x5b && this.recordsKey === undefined) {
            this.recordsKey = this.key;
            this.state = 'arr-first';
          } else if (c === 0x5b) {
            throw new LoadError(`the JSON object holds several arrays ("${this.recordsKey}" and "${this.key}"): which one holds the records is unclear`);
          } else {
            begin('member');
            continue;
          }
          break;
        case 'obj-next':
          if (c === 0x7d) this.state = 'done';
          else if (c === 0x2c) this.state = 'obj-key';
          else this.fail('expected , or } after a member', pos);
          break;
        case 'done':
          this.fail('content after the end of the document', pos);
      }
      pos++;
    }
    this.base += data.length;
  }

  private value(data: Buffer, start: number, end: number): void {
    const kind = this.kind!;
    // over the limit, whether it came in one chunk or many
    const raw = this.skipRaw ?? (end - start > this.maxRecord ? Buffer.from(data.subarray(start, start + this.maxRaw)) : undefined);
    this.kind = undefined;
    this.skipRaw = undefined;
    if (kind === 'record') {
      this.state = 'arr-next';
      if (raw) this.sink.tooLarge(raw);
      else this.sink.record(data, start, end);
      return;
    }
    if (raw && kind === 'member') {
      this.state = 'obj-next'; // a member too large to hold is skipped unread (no next link in it)
      return;
    }
    if (raw) this.fail(`a key over ${this.maxRecord} bytes`, start);
    let v: unknown;
    try {
      v = JSON.parse(data.toString('utf8', start, end));
    } catch {
      this.fail(kind === 'key' ? 'a bad key' : `a bad value of "${this.key}"`, start);
    }
    if (kind === 'key') {
      this.key = v as string;
      this.state = 'obj-colon';
    } else {
      this.sink.member(this.key, v);
      this.state = 'obj-next';
    }
  }

  /** The input ended: the document must be complete. */
  end(): void {
    if (this.state === 'start' && !this.kind) throw new LoadError('not valid JSON: the input is empty');
    if (this.kind || this.state !== 'done') throw new LoadError(`the JSON document is cut off: it ends at byte ${this.base + (this.carry?.length ?? 0)} before the document does`);
    if (this.root === 'object' && this.recordsKey === undefined) {
      throw new LoadError('the JSON object holds no array of records (one JSON Lines record? use --format jsonl)');
    }
  }
}
