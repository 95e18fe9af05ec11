/**
 * runTransform: the sql/ files in path order, in one transaction, under the transform advisory lock,
 * recorded in meta.transform_runs. Incremental (only loads completed since the last transform) unless
 * --full was asked or a rebuild of core is needed (see plan.ts). Callable as a function (watch modes).
 */
import { dirname } from 'node:path';

import type pg from 'pg';

import { sqlDir as defaultSqlDir } from '../paths.js';
import { applyFile, type FileResult } from './apply.js';
import { emptyForBulk, rebuildAfterBulk, type DroppedIndexes } from './bulk.js';
import { dropObject, objectState } from './catalog.js';
import { readSqlFiles, type SqlFile } from './files.js';
import { acquireTransformLock, releaseTransformLock } from './lock.js';
import { changedFiles, fullReason, type PlanFile } from './plan.js';
import { idArray, isCitus, setRunSettings } from './settings.js';
import { actAsOwner } from './owner.js';
import { readState } from './state.js';

export type { FileResult } from './apply.js';

export interface TransformOptions {
  /** rebuild core from every complete load */
  full?: boolean;
  /** when another transform holds the lock: wait for it (default), or throw a busy UserError (exit 3) */
  wait?: boolean;
  log?: (line: string) => void;
  /** the folder of SQL files (default: the project's sql/) */
  sqlDir?: string;
  /** incremental even for a batch larger than what core holds (which by default rebuilds: plan.ts); for tests of that path */
  preferIncremental?: boolean;
}

export interface TransformResult {
  runId: number;
  full: boolean;
  fullReason: string | undefined;
  loads: number;
  rowsStaged: number;
  rowsClean: number;
  rowsQuarantined: number;
  rowsDuplicate: number;
  files: FileResult[];
  ms: number;
}

/** A step file fills a table owned by a migration (core.transactions, the summaries…) or makes one of the run's temporary tables. */
async function isStep(c: pg.ClientBase, f: SqlFile): Promise<boolean> {
  return f.schema === 'pg_temp' || (await objectState(c, f.schema, f.object))?.kind === 'table';
}

export async function runTransform(db: { pool: pg.Pool }, options: TransformOptions = {}): Promise<TransformResult> {
  const log = options.log ?? (() => undefined);
  const dir = options.sqlDir ?? defaultSqlDir;
  const files = await readSqlFiles(dir, dirname(dir));
  const started = performance.now();
  const c = await db.pool.connect();
  c.on('error', () => undefined); // a lost connection fails the query under way, which reports it
  let locked = false;
  try {
    await acquireTransformLock(c, options.wait ?? true, log);
    locked = true;
    await c.query(`update meta.transform_runs set status = 'failed', finished_at = now(), error = 'interrupted: the process ended before the run finished' where status = 'running'`);
    const { rows } = await c.query<{ run_id: number }>('insert into meta.transform_runs (is_full) values (false) returning run_id');
    const runId = Number(rows[0]!.run_id);
    let reason: string | undefined;
    try {
      await c.query('begin isolation level repeatable read');
      // every object the run creates, replaces or rebuilds belongs to one role, whoever logged in (owner.ts)
      const acting = await actAsOwner(c);
      if (acting.note) log(acting.note);
      // one transform at a time: it may sort and hash a whole rebuild in memory rather than on disk (256MB: the
      // dedup sort of a 1M-row full rebuild needs ~150MB; at 128MB it spilled to disk and took ~0.7 s longer)
      await c.query(`set local work_mem = '256MB'`);
      const state = await readState(c);
      const planFiles: PlanFile[] = [];
      for (const f of files) planFiles.push({ file: f.file, sha256: f.sha256, isStep: await isStep(c, f) });
      reason = fullReason({ requested: options.full ?? false, files: planFiles, ...state, preferIncremental: options.preferIncremental });
      const full = reason !== undefined;
      const batch = full ? state.allComplete : state.pending;
      // loads the transform processed that are no longer complete: their rows leave core (sql/011-017)
      const removed = full ? [] : state.processedNotComplete;
      let dropped = new Map<string, DroppedIndexes>();
      if (full) {
        log(`full rebuild of core: ${reason}`);
        dropped = await emptyForBulk(c, files.filter((f, i) => planFiles[i]!.isStep && f.schema !== 'pg_temp'));
      } else if (removed.length) {
        log(`load${removed.length > 1 ? 's' : ''} ${removed.join(', ')} no longer complete: their rows leave core`);
      }
      await setRunSettings(c, {
        'transform.run_id': String(runId),
        'transform.is_full': String(full),
        'transform.removed_load_ids': idArray(removed),
        'transform.batch_load_ids': idArray(batch),
      }, await isCitus(c));
      const changed = changedFiles(planFiles, state.stored);
      const results: FileResult[] = [];
      for (const f of files) {
        const r = await applyFile(c, f, { full, changed: changed.has(f.file), dataChanged: full || batch.length > 0 || removed.length > 0 });
        if (full) {
          const t = performance.now();
          await rebuildAfterBulk(c, dropped, f.schema, f.object);
          r.ms += Math.round(performance.now() - t);
        }
        log(`${f.file}: ${r.action}${r.rows === null ? '' : `, ${r.rows} rows`} (${r.ms} ms)`);
        results.push(r);
        await c.query(
          `insert into meta.transform_files (file, object_name, sha256) values ($1, $2, $3)
           on conflict (file) do update set object_name = excluded.object_name, sha256 = excluded.sha256,
             applied_at = case when meta.transform_files.sha256 = excluded.sha256 then meta.transform_files.applied_at else now() end`,
          [f.file, `${f.schema}.${f.object}`, f.sha256],
        );
      }
      // a file deleted from sql/: its object goes too (tables belong to migrations and stay)
      const names = new Set(files.map((f) => f.file));
      for (const [file] of state.stored) {
        if (names.has(file)) continue;
        const { rows: gone } = await c.query<{ object_name: string }>('delete from meta.transform_files where file = $1 returning object_name', [file]);
        const [schema, object] = gone[0]!.object_name.split('.') as [string, string];
        const st = await objectState(c, schema, object);
        if (st && st.kind !== 'table') await dropObject(c, schema, object, st.kind);
        log(`${file}: removed from sql/, dropped ${schema}.${object}`);
      }
      const { rows: sums } = await c.query<{ loads: number; staged: number; clean: number; quarantined: number; duplicate: number }>(
        `select count(*) as loads, coalesce(sum(rows_staged), 0)::bigint as staged, coalesce(sum(rows_clean), 0)::bigint as clean,
                coalesce(sum(rows_quarantined), 0)::bigint as quarantined, coalesce(sum(rows_duplicate), 0)::bigint as duplicate
           from meta.transform_loads where run_id = $1`,
        [runId],
      );
      const s = Object.fromEntries(Object.entries(sums[0]!).map(([k, v]) => [k, Number(v)])) as (typeof sums)[0] & object;
      await c.query(
        `update meta.transform_runs set status = 'complete', finished_at = clock_timestamp(), is_full = $2, full_reason = $3,
           loads_processed = $4, rows_processed = $5, files = $6 where run_id = $1`,
        [runId, full, reason ?? null, s.loads, s.staged, JSON.stringify(results)],
      );
      await c.query(`select pg_notify('transforms_completed', $1)`, [String(runId)]);
      await c.query('commit');
      return {
        runId, full, fullReason: reason, loads: s.loads, rowsStaged: s.staged, rowsClean: s.clean,
        rowsQuarantined: s.quarantined, rowsDuplicate: s.duplicate, files: results, ms: Math.round(performance.now() - started),
      };
    } catch (err) {
      await c.query('rollback').catch(() => undefined);
      await c
        .query(`update meta.transform_runs set status = 'failed', finished_at = clock_timestamp(), is_full = $2, full_reason = $3, error = $4 where run_id = $1`, [
          runId, reason !== undefined, reason ?? null, (err as Error).message,
        ])
        .catch(() => undefined);
      throw err;
    }
  } finally {
    if (locked) await releaseTransformLock(c).catch(() => undefined);
    c.release();
  }
}
