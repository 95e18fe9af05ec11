/** The loader (loader/load/) behind `load --watch`: one file per call, its result as a watch outcome. */
import type { Database } from '../db.js';
import { loadSources, type LoadResult } from '../load/index.js';
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

export const loadWithLoader: LoadOne = async (db, file, { log }) => {
  const [result] = await loadSources(db, [file.path], {
    jobs: 1,
    onEvent: (e) => {
      if (e.type === 'note') log('note', { source: e.source, message: e.message });
    },
  });
  if (!result) return { event: 'failed', fields: { error: 'the loader returned no result for this file' } };
  return outcomeOf(db, result);
};
