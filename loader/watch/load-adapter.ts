/**
 * The loader (loader/load/) behind `load --watch`: one file per call, its result as a watch outcome.
 * The connections a file was loaded on are kept for the next file while files follow one another (a burst:
 * a fresh stack's 305 bundled files), and closed once idle for IDLE_MS. Connecting costs ~25 ms each
 * (scram-sha-256 over TCP) and a file takes three (ledger and two COPY streams): on fresh connections per
 * file the bundled inbox took 21 s to load under watch, against 4 s for one `npm run load` of the folder.
 * Connections a failed file used are closed, never reused (the next file starts on fresh ones, as
 * `loadSources` does). What `loadSources` does before its files (clean up abandoned loads) runs per file.
 */
import type { Database } from '../db.js';
import { Connections } from '../load/copy.js';
import { loadOne } from '../load/file.js';
import { HTTP_DEFAULTS } from '../load/http.js';
import { type LoadResult } from '../load/index.js';
import { sweepAbandoned } from '../load/ledger.js';
import { expandSources } from '../load/source.js';
import type { Outcome } from './inbox.js';
import type { LoadOne } from './load-service.js';
import type { Fields } from './log.js';

/** Failures that may pass by themselves: worth another attempt later. */
const passing = /^(cannot connect to the database|disk full)|connection (terminated|reset|refused)|ECONN|57P0[123]|terminating connection/i;

async function databaseAnswers(db: Database): Promise<boolean> {
  return db.pool.query('select 1').then(() => true, () => false);
}

/** What the watcher does with a loader result. */
export async function outcomeOf(db: Database, r: LoadResult): Promise<Outcome> {
  const counts: Fields = { rows_read: r.rowsRead, rows_staged: r.rowsStaged, rows_rejected: r.rowsRejected, seconds: r.seconds };
  if (r.status === 'loaded') {
    return { event: 'loaded', fields: { load_id: r.loadId, ...counts, replaced: r.replaced?.map(String), note: r.message } };
  }
  if (r.status === 'skipped') {
    // skipped because another process is loading the same bytes: look again later, it may fail
    const { rows } = await db.pool.query<{ status: string }>('select status from meta.loads where load_id = $1', [r.loadId ?? null]);
    const running = rows[0]?.status === 'running';
    return { event: 'skipped', retry: running, fields: { load_id: r.loadId, reason: r.message } };
  }
  const retry = passing.test(r.error ?? '') || !(await databaseAnswers(db));
  return { event: 'failed', retry, fields: { ...counts, error: r.error } };
}

/** How long a file's connections wait for the next file before they are closed. */
export const IDLE_MS = 1000;

/** Idle connection sets per database, each with when it was last used. */
const idle = new WeakMap<Database, { conns: Connections; at: number }[]>();

function take(db: Database): Connections {
  return idle.get(db)?.pop()?.conns ?? new Connections(db.config);
}

function giveBack(db: Database, conns: Connections): void {
  const list = idle.get(db) ?? [];
  idle.set(db, list);
  list.push({ conns, at: Date.now() });
  setTimeout(() => {
    for (const entry of list.filter((e) => Date.now() - e.at >= IDLE_MS)) {
      list.splice(list.indexOf(entry), 1);
      void entry.conns.close();
    }
  }, IDLE_MS).unref();
}

/** Close every idle connection set of `db` (the watcher stops). */
export async function closeIdle(db: Database): Promise<void> {
  const list = idle.get(db) ?? [];
  await Promise.all(list.splice(0).map((e) => e.conns.close()));
}

export const loadWithLoader: LoadOne = async (db, file, { log }) => {
  const emit = (e: { type: string; source?: string; message?: string }) => {
    if (e.type === 'note') log('note', { source: e.source, message: e.message });
  };
  const conns = take(db);
  let result: LoadResult | undefined;
  try {
    const [src] = await expandSources([file.path]);
    if (!src) return { event: 'failed', fields: { error: 'the loader found no file at this path' } };
    for (const id of await sweepAbandoned(await conns.ctl())) emit({ type: 'note', source: `load ${id}`, message: 'abandoned load cleaned up (its process ended mid-load)' });
    result = await loadOne(conns, src, { force: false, streams: 2, splitAfter: 2 * 1024 * 1024, http: { ...HTTP_DEFAULTS }, emit });
  } finally {
    if (result && result.status !== 'failed') giveBack(db, conns);
    else await conns.close();
  }
  return outcomeOf(db, result);
};
