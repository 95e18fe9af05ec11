/** Raw bytes → text bytes: counts and (for stream sources) hashes what arrives, gunzips when the magic bytes say gzip. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

import { LoadError } from './errors.js';

export interface Decoded {
  chunks: AsyncIterable<Buffer>;
  /** raw bytes read so far */
  readonly rawBytes: number;
  /** sha256 of the raw bytes (complete once chunks are exhausted) */
  sha256(): string;
  readonly gzip: boolean;
}

export function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

export async function decode(raw: AsyncIterable<Buffer>, options: { hash: boolean }): Promise<Decoded> {
  const hash = options.hash ? createHash('sha256') : undefined;
  const state = { rawBytes: 0 };
  const it = raw[Symbol.asyncIterator]();
  // find the first non-empty chunk: its first two bytes tell gzip from text
  let first = await it.next();
  while (!first.done && first.value.length < 2) {
    const more = await it.next();
    if (more.done) break;
    first = { done: false, value: Buffer.concat([first.value, more.value]) };
  }
  async function* tapped(): AsyncGenerator<Buffer> {
    let r = first;
    while (!r.done) {
      const chunk = r.value;
      state.rawBytes += chunk.length;
      hash?.update(chunk);
      yield chunk;
      r = await it.next();
    }
  }
  const gzip = !first.done && isGzip(first.value);
  let chunks: AsyncIterable<Buffer> = tapped();
  if (gzip) chunks = gunzip(chunks);
  return {
    chunks,
    get rawBytes() {
      return state.rawBytes;
    },
    sha256: () => hash?.digest('hex') ?? '',
    gzip,
  };
}

async function* gunzip(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const gz = createGunzip({ chunkSize: 256 * 1024 });
  const done = pipeline(Readable.from(input, { objectMode: false }), gz);
  let failed: unknown;
  done.catch((err: unknown) => (failed = err));
  try {
    for await (const chunk of gz as AsyncIterable<Buffer>) yield chunk;
    await done;
  } catch (err) {
    const e = (failed ?? err) as NodeJS.ErrnoException;
    if (e instanceof LoadError) throw e;
    if (typeof e.code === 'string' && e.code.startsWith('Z_')) throw new LoadError(`not valid gzip data (${e.message})`);
    throw e;
  }
}
