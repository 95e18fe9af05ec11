/** One source, start to end: hash, header, claim, scan + COPY, rejects, complete (or fail, or skip). */
import { performance } from 'node:perf_hooks';

import { CopySink, type Connections } from './copy.js';
import { decode } from './decode.js';
import { LoadError } from './errors.js';
import { CANONICAL } from './header.js';
import { readHeader } from './header-read.js';
import { claimLoad, completeLoad, discardLoad, failLoad, findComplete, insertRejects, release } from './ledger.js';
import { RecordScanner, type Reject } from './scan.js';
import { hashFile, openRaw, type Source } from './source.js';
import type { LoadEvent, LoadResult } from './types.js';

export interface FileOptions {
  force: boolean;
  streams: number;
  splitAfter: number;
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
  let ctl: Awaited<ReturnType<Connections['ctl']>>;
  try {
    ctl = await conns.ctl();
  } catch (err) {
    await conns.close();
    return finish('failed', { error: `cannot connect to the database: ${describe(err)}` });
  }
  try {
    const known = src.kind === 'file' ? await hashFile(src.path) : undefined;
    if (known && !opt.force) {
      const done = await findComplete(ctl, known.sha256);
      if (done !== undefined) return finish('skipped', { loadId: done, message: `already loaded as load ${done}` });
    }
    const raw = await openRaw(src);
    opt.emit({ type: 'start', source: src.name, totalBytes: raw.size });
    const input = await decode(raw.chunks, { hash: !known });
    const head = await readHeader(input.chunks);
    const claim = await claimLoad(ctl, { source: src.name, sha256: known?.sha256, byteSize: raw.size, force: opt.force });
    if ('busy' in claim) return finish('skipped', { loadId: claim.busy, message: `being loaded by another process (load ${claim.busy})` });
    if ('complete' in claim) return finish('skipped', { loadId: claim.complete, message: `already loaded as load ${claim.complete}` });
    loadId = claim.loadId;
    result.loadId = loadId;

    const rejects: Reject[] = [];
    let rejectBytes = 0;
    let rowsRejected = 0;
    const flushRejects = async () => {
      rowsRejected += await insertRejects(ctl, loadId!, rejects.splice(0));
      rejectBytes = 0;
    };
    const out: Buffer[] = [];
    let scanner: RecordScanner | undefined;
    let staged = 0;
    if (!head.empty) {
      const { map, header } = head;
      const keep = map.extras.length ? map.columns.map((c) => c !== null) : undefined;
      if (map.extras.length) opt.emit({ type: 'note', source: src.name, message: `extra columns ignored: ${map.extras.join(', ')}` });
      const columns = map.columns.filter((c) => c !== null);
      if (!columns.every((c) => (CANONICAL as readonly string[]).includes(c))) throw new Error('unexpected column');
      const sql = `copy staging.transactions (load_id, line_no, ${columns.join(', ')}) from stdin with (format csv)`;
      const sink = new CopySink(conns, sql, opt.streams, opt.splitAfter);
      scanner = new RecordScanner({
        fieldCount: map.fieldCount,
        keep,
        prefix: Buffer.from(`${loadId},`),
        firstLine: header.firstLine,
        onData: (b) => out.push(b),
        onReject: (r) => {
          rejects.push(r);
          rejectBytes += r.raw.length;
        },
      });
      const step = async (chunk: Buffer | undefined) => {
        if (chunk) scanner!.push(chunk);
        else scanner!.end();
        if (out.length) await sink.write(out.splice(0));
        if (rejects.length >= REJECT_BATCH_ROWS || rejectBytes >= REJECT_BATCH_BYTES) await flushRejects();
      };
      await step(header.rest);
      for (let r = await head.chunks.next(); !r.done; r = await head.chunks.next()) {
        await step(r.value);
        opt.emit({ type: 'progress', source: src.name, bytes: input.rawBytes, totalBytes: raw.size, rows: scanner.rowsRead });
      }
      await step(undefined);
      staged = await sink.finish();
    } else opt.emit({ type: 'note', source: src.name, message: 'empty file: no header, no rows' });
    await flushRejects();
    const rowsRead = scanner?.rowsRead ?? 0;
    Object.assign(result, { rowsRead, rowsStaged: staged, rowsRejected });
    if (rowsRead !== staged + rowsRejected) throw new Error(`accounting check failed: read ${rowsRead} records, the server stored ${staged}, rejected ${rowsRejected}`);
    const sha256 = known?.sha256 ?? input.sha256();
    const done = await completeLoad(ctl, loadId, sha256, { rowsRead, rowsStaged: staged, rowsRejected, byteSize: input.rawBytes }, opt.force);
    if ('duplicateOf' in done) {
      await discardLoad(ctl, loadId);
      completed = true;
      return finish('skipped', { loadId: done.duplicateOf, rowsRead: 0, rowsStaged: 0, rowsRejected: 0, message: `already loaded as load ${done.duplicateOf}` });
    }
    completed = true;
    return finish('loaded', done.replaced.length ? { replaced: done.replaced, message: `replaced load ${done.replaced.join(', ')}` } : {});
  } catch (err) {
    const message = err instanceof LoadError ? err.message : describe(err);
    if (loadId !== undefined && !completed) {
      // the COPYs in flight end with their connections (never committed); then the ledger row and rows go
      await conns.closeCopies();
      await failLoad(ctl, loadId, message).catch(() => undefined);
    }
    if (!(err instanceof LoadError)) await conns.close().catch(() => undefined);
    return finish('failed', { error: message });
  } finally {
    if (loadId !== undefined) await release(ctl, loadId).catch(() => undefined);
  }
}

function describe(err: unknown): string {
  const e = err as { message?: string; code?: string };
  if (e.code === 'ENOSPC' || e.code === '53100') return `disk full: ${e.message}`;
  return e.message ?? String(err);
}
