/** Read the header record off the front of a source's text bytes. */
import { LoadError } from './errors.js';
import { splitFields } from './fields.js';
import { mapHeader, type HeaderMap } from './header.js';

const MAX_HEADER = 1024 * 1024;

export interface HeaderRecord {
  names: string[];
  /** bytes after the header record (the first records) */
  rest: Buffer;
  /** physical line on which the first record starts */
  firstLine: number;
}

/** The first record of buf (BOM removed), or undefined when buf does not hold all of it yet (pure). */
export function splitHeader(buf: Buffer, final: boolean): HeaderRecord | undefined {
  const start = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  let inQuote = false;
  let newlines = 0;
  let end = -1;
  for (let i = start; i < buf.length; i++) {
    const c = buf[i];
    if (c === 0x22) inQuote = !inQuote;
    else if (c === 0x0a) {
      if (!inQuote) {
        end = i;
        break;
      }
      newlines++;
    }
  }
  if (end < 0 && !final) return undefined;
  if (end < 0 && inQuote) throw new LoadError('the header has an unterminated quote', 1);
  const stop = end < 0 ? buf.length : end;
  const recEnd = stop > start && buf[stop - 1] === 0x0d ? stop - 1 : stop;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let names: string[];
  try {
    names = splitFields(buf, start, recEnd).map((f) => decoder.decode(f.value).trim());
  } catch {
    throw new LoadError('the header is not valid UTF-8', 1);
  }
  return { names, rest: end < 0 ? Buffer.alloc(0) : buf.subarray(end + 1), firstLine: 2 + newlines };
}

export type HeaderRead = { empty: true } | { empty: false; header: HeaderRecord; map: HeaderMap; chunks: AsyncIterator<Buffer> };

/** Read and map the header; the returned iterator goes on with the chunks after it. An empty source has none. */
export async function readHeader(chunks: AsyncIterable<Buffer>): Promise<HeaderRead> {
  const it = chunks[Symbol.asyncIterator]();
  let buf: Buffer = Buffer.alloc(0);
  for (;;) {
    const r = await it.next();
    if (!r.done) buf = buf.length ? Buffer.concat([buf, r.value]) : r.value;
    const bomOnly = buf.length <= 3 && buf.equals(Buffer.from([0xef, 0xbb, 0xbf]).subarray(0, buf.length));
    if (r.done && (buf.length === 0 || bomOnly)) return { empty: true };
    const header = splitHeader(buf, r.done === true);
    if (header) {
      const mapped = mapHeader(header.names);
      if (!mapped.ok) throw new LoadError(mapped.reason, 1);
      return { empty: false, header, map: mapped.map, chunks: it };
    }
    if (buf.length > MAX_HEADER) throw new LoadError('the header record is over 1 MiB', 1);
  }
}
