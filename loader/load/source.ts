/** Sources: what the arguments name (files, directories, URLs, stdin) and their raw bytes. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { LoadError } from './errors.js';

export type Source =
  | { kind: 'file'; name: string; path: string }
  | { kind: 'url'; name: string; url: string }
  | { kind: 'stdin'; name: string };

export const READ_CHUNK = 1024 * 1024;

/** Is this directory entry a transaction file? (.csv, .csv.gz; any case) */
export function isDataFileName(name: string): boolean {
  return /\.csv(\.gz)?$/i.test(name);
}

/** Arguments → sources, in order; a directory gives its .csv/.csv.gz files (not recursive) in name order. */
export async function expandSources(args: string[]): Promise<Source[]> {
  const out: Source[] = [];
  for (const arg of args) {
    if (arg === '-') out.push({ kind: 'stdin', name: '-' });
    else if (/^https?:\/\//i.test(arg)) out.push({ kind: 'url', name: arg, url: arg });
    else {
      const st = await stat(arg).catch(() => undefined);
      if (st?.isDirectory()) {
        const names = (await readdir(arg, { withFileTypes: true }))
          .filter((e) => (e.isFile() || e.isSymbolicLink()) && isDataFileName(e.name))
          .map((e) => e.name)
          .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        for (const name of names) out.push({ kind: 'file', name: join(arg, name), path: join(arg, name) });
      } else out.push({ kind: 'file', name: arg, path: arg });
    }
  }
  return out;
}

function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'no such file or directory';
  if (e.code === 'EACCES') return 'permission denied';
  if (e.code === 'EISDIR') return 'is a directory';
  return e.message;
}

/** sha256 of a file's bytes (read once before loading, so the ledger can claim it up front). */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  try {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    return { sha256: hash.digest('hex'), size };
  } catch (err) {
    throw new LoadError(describeFsError(err));
  }
}

export interface RawInput {
  chunks: AsyncIterable<Buffer>;
  /** total bytes when known (file size, Content-Length) */
  size?: number;
}

/** The raw bytes of a source, as they arrive. */
export async function openRaw(src: Source, signal?: AbortSignal): Promise<RawInput> {
  if (src.kind === 'stdin') return { chunks: process.stdin };
  if (src.kind === 'file') {
    const st = await stat(src.path).catch((err: unknown) => {
      throw new LoadError(describeFsError(err));
    });
    if (st.isDirectory()) throw new LoadError('is a directory');
    return { chunks: createReadStream(src.path, { highWaterMark: READ_CHUNK }), size: st.size };
  }
  let res: Response;
  try {
    res = await fetch(src.url, { redirect: 'follow', signal });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause;
    throw new LoadError(`cannot fetch: ${cause?.message ?? (err as Error).message}`);
  }
  if (!res.ok || !res.body) throw new LoadError(`HTTP ${res.status} ${res.statusText}`.trim());
  const length = Number(res.headers.get('content-length') ?? NaN);
  return { chunks: urlChunks(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>)), size: Number.isFinite(length) ? length : undefined };
}

/** A dropped connection mid-body is an error of the source, said plainly. */
async function* urlChunks(body: Readable): AsyncGenerator<Buffer> {
  let bytes = 0;
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    }
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause;
    throw new LoadError(`connection dropped after ${bytes} bytes (${cause?.message ?? (err as Error).message})`);
  }
}
