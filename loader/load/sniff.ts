/**
 * Which format a source is (contract §1b), from its first text bytes (after gzip): the first non-blank
 * byte `[` is a JSON document; `{` is JSON Lines or a document (jsonKind, then the name or Content-Type);
 * anything else is CSV. `--format` overrides it. The bytes read to decide are handed on untouched.
 */
import { isWs } from './json-value.js';

export type Format = 'csv' | 'jsonl' | 'json';
export const FORMATS: readonly Format[] = ['csv', 'jsonl', 'json'];

export interface Hints {
  /** a file name or URL path: .jsonl/.ndjson(.gz) says JSON Lines, .json(.gz) a document */
  name?: string;
  /** an HTTP Content-Type */
  contentType?: string;
}

/** A hint for a `{` source the content leaves open: by name, then by Content-Type (pure). */
export function hintOf(h: Hints): 'jsonl' | 'json' | undefined {
  const name = (h.name ?? '').replace(/[?#].*$/, '');
  if (/\.(jsonl|ndjson)(\.gz)?$/i.test(name)) return 'jsonl';
  if (/\.json(\.gz)?$/i.test(name)) return 'json';
  const type = (h.contentType ?? '').toLowerCase();
  if (/(ndjson|jsonl|json-seq|jsonlines)/.test(type)) return 'jsonl';
  if (/json/.test(type)) return 'json';
  return undefined;
}

const LOOKAHEAD = 1024 * 1024;

/**
 * For text that starts with `{` at `at` (pure): `jsonl` when its first value ends on its first line and
 * another non-blank byte follows on a later line (no JSON document can go on after its value: this is
 * JSON Lines whatever the name says); `open` otherwise (one value, or one that spans lines: a document,
 * unless the name or Content-Type says JSON Lines); undefined: more bytes needed.
 */
export function jsonKind(buf: Buffer, at: number, final: boolean): 'jsonl' | 'open' | undefined {
  let depth = 0;
  let inStr = false;
  let esc = false;
  let k = at;
  for (; k < buf.length; k++) {
    const c = buf[k]!;
    if (inStr) {
      if (esc) esc = false;
      else if (c === 0x5c) esc = true;
      else if (c === 0x22) inStr = false;
      else if (c === 0x0a) return 'open';
    } else if (c === 0x22) inStr = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (--depth === 0) break;
    } else if (c === 0x0a) return 'open';
  }
  if (k >= buf.length) return final || buf.length - at > LOOKAHEAD ? 'open' : undefined;
  let sawNewline = false;
  for (k++; k < buf.length; k++) {
    const c = buf[k]!;
    if (c === 0x0a) sawNewline = true;
    else if (!isWs(c)) return sawNewline ? 'jsonl' : 'open';
  }
  return final ? 'open' : undefined;
}

/** First non-blank byte (after a BOM) of buf, or -1. */
function firstByte(buf: Buffer): number {
  let i = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  while (i < buf.length && isWs(buf[i]!)) i++;
  return i;
}

export async function sniff(chunks: AsyncIterable<Buffer>, forced: Format | undefined, hints: Hints): Promise<{ format: Format; chunks: AsyncIterable<Buffer> }> {
  const it = chunks[Symbol.asyncIterator]();
  const seen: Buffer[] = [];
  let buf: Buffer = Buffer.alloc(0);
  let done = false;
  const more = async () => {
    const r = await it.next();
    if (r.done) done = true;
    else {
      seen.push(r.value);
      buf = buf.length ? Buffer.concat([buf, r.value]) : r.value;
    }
  };
  let format: Format | undefined = forced;
  while (!format) {
    const i = firstByte(buf);
    if (i < buf.length) {
      const c = buf[i];
      if (c === 0x5b) format = 'json';
      else if (c !== 0x7b) format = 'csv';
      else {
        const kind = jsonKind(buf, i, done);
        if (kind) format = kind === 'jsonl' ? 'jsonl' : (hintOf(hints) ?? 'json');
      }
    } else if (done) format = 'csv'; // empty (or blank): the CSV path says "empty file"
    if (!format) await more();
  }
  async function* replay(): AsyncGenerator<Buffer> {
    for (const b of seen) yield b;
    if (done) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return { format, chunks: replay() };
}
