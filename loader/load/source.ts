/** Sources: what the arguments name (files, directories, URLs, stdin) and their raw bytes. */
import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { LoadError } from './errors.js';
import { maskUrl } from './paging.js';

export type Source =
  | { kind: 'file'; name: string; path: string }
  | { kind: 'url'; name: string; url: string }
  | { kind: 'stdin'; name: string };

export const READ_CHUNK = 1024 * 1024;

/** Is this directory entry a transaction file? (.csv, .json, .jsonl, .ndjson, each also .gz; any case) */
export function isDataFileName(name: string): boolean {
  return /\.(csv|json|jsonl|ndjson)(\.gz)?$/i.test(name);
}

/**
 * Arguments → sources, in order; a directory gives its transaction files (not recursive) in name order.
 * A URL's name (printed, and stored as meta.loads.source) is masked: no credentials, no secret query values.
 */
export async function expandSources(args: string[]): Promise<Source[]> {
  const out: Source[] = [];
  for (const arg of args) {
    if (arg === '-') out.push({ kind: 'stdin', name: '-' });
    else if (/^https?:\/\//i.test(arg)) out.push({ kind: 'url', name: maskUrl(arg), url: arg });
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
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      let size = 0;
      for (let n; (n = (await fh.read(buf, 0, buf.length, null)).bytesRead) > 0; size += n) hash.update(buf.subarray(0, n));
      return { sha256: hash.digest('hex'), size };
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new LoadError(describeFsError(err));
  }
}

export interface RawInput {
  chunks: AsyncIterable<Buffer>;
  /** total bytes when known (file size, Content-Length) */
  size?: number;
  /** files: read the next bytes straight into a buffer of ours (after `chunks` has been left) */
  readInto?: (buf: Buffer, offset: number, length: number) => Promise<number>;
  close(): Promise<void>;
}

/** The raw bytes of a file or stdin, as they arrive (a URL is a pull: pull.ts). */
export async function openRaw(src: Source): Promise<RawInput> {
  const nothing = async () => undefined;
  if (src.kind === 'stdin') return { chunks: process.stdin, close: nothing };
  if (src.kind === 'file') {
    const st = await stat(src.path).catch((err: unknown) => {
      throw new LoadError(describeFsError(err));
    });
    if (st.isDirectory()) throw new LoadError('is a directory');
    const fh = await open(src.path, 'r').catch((err: unknown) => {
      throw new LoadError(describeFsError(err));
    });
    const readInto = async (buf: Buffer, offset: number, length: number) => (await fh.read(buf, offset, length, null)).bytesRead;
    // a small first chunk (a CSV header is read from it with no read-ahead, then readInto), then 1 MiB ones (JSON)
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let size = 64 * 1024; ; size = READ_CHUNK) {
        const buf = Buffer.allocUnsafe(size);
        const n = await readInto(buf, 0, buf.length);
        if (n === 0) return;
        yield buf.subarray(0, n);
      }
    }
    return { chunks: chunks(), size: st.size, readInto, close: () => fh.close() };
  }
  throw new Error('a URL is read as a pull (pull.ts)');
}
