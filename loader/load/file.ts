/** One source, start to end: open (or pull), hash, format and header, claim, stage (stage-csv.ts, json-stage.ts), rejects, complete (or fail, or skip). */
import { performance } from 'node:perf_hooks';

import type { Connections } from './copy.js';
import { decode } from './decode.js';
import { LoadError } from './errors.js';
import { readHeader } from './header-read.js';
import { claimLoad, claimSha, completeLoad, discardLoad, failLoad, findComplete, insertRejects, release, type Claim } from './ledger.js';
import { hashInWorker } from './hash.js';
import type { HttpOptions } from './http.js';
import { stageJsonSource } from './json-stage.js';
import { Pull, type Page } from './pull.js';
import type { Reject } from './scan.js';
import { sniff, type Format } from './sniff.js';
import { hashFile, openRaw, type RawInput, type Source } from './source.js';
import { stageCsv } from './stage-csv.js';
import type { StageContext, Staged } from './stage.js';
import type { LoadEvent, LoadResult } from './types.js';

export interface FileOptions {
  force: boolean;
  streams: number;
  splitAfter: number;
  /** --format: else from the content (sniff.ts) */
  format?: Format;
  http: HttpOptions;
  emit: (event: LoadEvent) => void;
}

const REJECT_BATCH_ROWS = 1000;
const REJECT_BATCH_BYTES = 4 * 1024 * 1024;

export async function loadOne(conns: Connections, src: Source, opt: FileOptions): Promise<LoadResult> {
  const t0 = performance.now();
  const result: LoadResult = { source: src.name, status: 'failed', rowsRead: 0, rowsStaged: 0, rowsRejected: 0, seconds: 0 };
  const finish = (status: LoadResult['status'], extra: Partial<LoadResult> = {}): LoadResult => {
    Object.assign(result, extra, { status, seconds: Math.round((performance.now() - t0) / 10) / 100 });
    return result;
  };
  let loadId: number | undefined;
  let completed = false;
  let closeRaw: (() => Promise<void>) | undefined;
  let pull: Pull | undefined;
  let ctl: Awaited<ReturnType<Connections['ctl']>>;
  try {
    ctl = await conns.ctl();
  } catch (err) {
    await conns.close();
    return finish('failed', { error: `cannot connect to the database: ${describe(err)}` });
  }
  try {
    // a URL is a pull: its first page now, the next ones as the body is read (JSON)
    let page: Page | undefined;
    let raw: RawInput;
    if (src.kind === 'url') {
      pull = new Pull(src.url, opt.http);
      const p = pull;
      closeRaw = () => p.close();
      page = await p.first();
      raw = { chunks: page.chunks, size: page.size, close: async () => undefined };
    } else raw = await openRaw(src);
    closeRaw ??= raw.close;
    if ((raw.size ?? 0) >= EARLY_HASH_BYTES) conns.warm(opt.streams);
    // a small file is hashed first; a large one in a worker thread while its rows already stream
    const early = src.kind === 'file' && (raw.size ?? 0) >= EARLY_HASH_BYTES ? hashInWorker(src.path) : undefined;
    early?.catch(() => undefined);
    const known = src.kind === 'file' && !early ? await hashFile(src.path) : undefined;
    if (known && !opt.force) {
      const done = await findComplete(ctl, known.sha256);
      if (done !== undefined) return finish('skipped', { loadId: done, message: `already loaded as load ${done}` });
    }
    opt.emit({ type: 'start', source: src.name, totalBytes: raw.size });
    const input = await decode(raw.chunks, { hash: src.kind === 'stdin' });
    const sniffed = await sniff(input.chunks, opt.format, { name: page?.url ?? src.name, contentType: page?.contentType });
    // CSV: the header is read before the load is recorded (a bad header leaves no ledger row)
    const head = sniffed.format === 'csv' ? await readHeader(sniffed.chunks) : undefined;
    const claim = await claimLoad(ctl, { source: src.name, sha256: known?.sha256, byteSize: raw.size, force: opt.force });
    const skip = skipped(claim);
    if (skip) return finish('skipped', skip);
    loadId = (claim as { loadId: number }).loadId;
    result.loadId = loadId;
    let sha256 = known?.sha256;
    let earlySha: string | undefined;
    void early?.then((h) => (earlySha = h.sha256), () => undefined); // a failed hash is reported by settleSha
    /** the early hash is in: claim it (before any COPY commits); throws Skip when another load has these bytes */
    const settleSha = async (wait: boolean) => {
      if (!early || sha256 || (!wait && !earlySha)) return;
      const h = (await early).sha256;
      const s = skipped(await claimSha(ctl, loadId!, h, opt.force));
      if (s) throw new Skip(s);
      sha256 = h;
    };

    const rejects: Reject[] = [];
    let rejectBytes = 0;
    let rowsRejected = 0;
    const flushRejects = async () => {
      rowsRejected += await insertRejects(ctl, loadId!, rejects.splice(0));
      rejectBytes = 0;
    };
    const ctx: StageContext = {
      conns,
      loadId,
      source: src.name,
      opt,
      raw,
      input,
      reject: (r) => {
        rejects.push(r);
        rejectBytes += r.raw.length;
      },
      flushFull: async () => {
        if (rejects.length >= REJECT_BATCH_ROWS || rejectBytes >= REJECT_BATCH_BYTES) await flushRejects();
      },
      settleSha,
    };
    let staged: Staged = { rowsRead: 0, rowsStaged: 0, rawBytes: 0 };
    if (!head) {
      // JSON: every page of the source (a pull's too), one load
      const format = sniffed.format as 'jsonl' | 'json';
      staged = await stageJsonSource(ctx, format, sniffed.chunks, pull && page ? { pull, page } : undefined);
    } else if (!head.empty) staged = await stageCsv(ctx, head);
    else opt.emit({ type: 'note', source: src.name, message: 'empty file: no header, no rows' });
    await settleSha(true);
    await flushRejects();
    const { rowsRead, rowsStaged } = staged;
    Object.assign(result, { rowsRead, rowsStaged, rowsRejected });
    if (rowsRead !== rowsStaged + rowsRejected) throw new Error(`accounting check failed: read ${rowsRead} records, the server stored ${rowsStaged}, rejected ${rowsRejected}`);
    const byteSize = pull?.bytes ?? Math.max(staged.rawBytes, input.rawBytes);
    const done = await completeLoad(ctl, loadId, sha256 ?? pull?.sha256() ?? input.sha256(), { rowsRead, rowsStaged, rowsRejected, byteSize }, opt.force);
    if ('duplicateOf' in done) {
      await discardLoad(ctl, loadId);
      completed = true;
      return finish('skipped', { loadId: done.duplicateOf, rowsRead: 0, rowsStaged: 0, rowsRejected: 0, message: `already loaded as load ${done.duplicateOf}` });
    }
    completed = true;
    return finish('loaded', done.replaced.length ? { replaced: done.replaced, message: `replaced load ${done.replaced.join(', ')}` } : {});
  } catch (err) {
    if (err instanceof Skip && loadId !== undefined) {
      // another load has these bytes: this one's COPYs were never committed; it leaves no trace
      await conns.closeCopies();
      await discardLoad(ctl, loadId).catch(() => undefined);
      completed = true;
      return finish('skipped', { ...err.result, rowsRead: 0, rowsStaged: 0, rowsRejected: 0 });
    }
    const message = err instanceof LoadError ? err.message : describe(err);
    if (loadId !== undefined && !completed) {
      // the COPYs in flight end with their connections (never committed); then the ledger row and rows go
      await conns.closeCopies();
      await failLoad(ctl, loadId, message).catch(() => undefined);
    }
    if (!(err instanceof LoadError)) await conns.close().catch(() => undefined);
    return finish('failed', { error: message });
  } finally {
    await closeRaw?.().catch(() => undefined);
    if (loadId !== undefined) await release(ctl, loadId).catch(() => undefined);
  }
}

/** Files from this size on are hashed in a worker thread while they load. */
const EARLY_HASH_BYTES = 16 * 1024 * 1024;

class Skip extends Error {
  constructor(readonly result: Partial<LoadResult>) {
    super(result.message);
  }
}

function skipped(claim: Claim): Partial<LoadResult> | undefined {
  if ('busy' in claim) return { loadId: claim.busy, message: `being loaded by another process (load ${claim.busy})` };
  if ('complete' in claim) return { loadId: claim.complete, message: `already loaded as load ${claim.complete}` };
  return undefined;
}

function describe(err: unknown): string {
  const e = err as { message?: string; code?: string };
  if (e.code === 'ENOSPC' || e.code === '53100') return `disk full: ${e.message}`;
  return e.message ?? String(err);
}
