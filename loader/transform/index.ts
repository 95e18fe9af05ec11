/**
 * runTransform: the sql/ files in path order, in one transaction, under the transform advisory lock,
 * recorded in meta.transform_runs. Incremental (only loads completed since the last transform) unless
 * --full was asked or a rebuild of core is needed (see plan.ts). Callable as a function (watch modes).
 *
 * A changed step file whose rebuild core can feed (deps.ts) rebuilds only what is downstream of it, in
 * the same transaction, in three passes:
 *   1. every step file up to the last one, incrementally (the batch, if any, as in any run), except the
 *      downstream ones (nothing outside them reads what they write);
 *   2. the rebuild: transform.is_full = true; the temporary tables the rebuilt steps read made again
 *      (pg_temp.transform_changes from core.transactions: every row, +1); the rebuilt tables emptied, their
 *      indexes dropped (bulk.ts); the downstream step files and the temporary steps they read run in full
 *      mode, in path order, each table's indexes built again after its file;
 *   3. the files after the last step (views), refreshing a view downstream of the rebuild even with no batch.
 * The batch goes in first and the rebuild reads core after it: each table outside the rebuild gets exactly
 * an incremental run's change, each rebuilt one exactly what a full rebuild of core as it now is gives.
 */
import { dirname } from 'node:path';

import { escapeIdentifier } from 'pg';
import type pg from 'pg';

import { sqlDir as defaultSqlDir } from '../paths.js';
import { applyFile, type FileResult } from './apply.js';
import { dropSecondaryIndexes, emptyForBulk, rebuildAfterBulk, type DroppedIndexes } from './bulk.js';
import { dropObject, objectState } from './catalog.js';
import { readSqlFiles, type SqlFile } from './files.js';
import { acquireTransformLock, releaseTransformLock } from './lock.js';
import { changedFiles, planOf, type PlanFile, type RebuildPlan } from './plan.js';
import { FROM_CORE, fileDeps, fromCoreSql } from './deps.js';
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

/** What a run would do, decided from the database's state and the sql/ files. */
export interface TransformPlan {
  full: boolean;
  fullReason: string | undefined;
  /** for a run that is not full: the part of core rebuilt because a step file changed */
  rebuild: RebuildPlan | undefined;
  /** the loads the run would process (the batch) */
  batch: number[];
  /** loads processed before that are no longer complete: their rows leave core */
  removed: number[];
  /** files whose text changed since last applied */
  changed: string[];
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
  /** the part of core rebuilt because a step file changed (not full) */
  rebuild: RebuildPlan | undefined;
}

/** A step file fills a table owned by a migration (core.transactions, the summaries…) or makes one of the run's temporary tables. */
async function isStep(c: pg.ClientBase, f: SqlFile): Promise<boolean> {
  return f.schema === 'pg_temp' || (await objectState(c, f.schema, f.object))?.kind === 'table';
}

async function planRun(c: pg.ClientBase, files: SqlFile[], options: TransformOptions): Promise<{ plan: TransformPlan; planFiles: PlanFile[]; stored: Map<string, string> }> {
  const state = await readState(c);
  const planFiles: PlanFile[] = [];
  for (const f of files) planFiles.push({ file: f.file, sha256: f.sha256, isStep: await isStep(c, f), schema: f.schema, object: f.object, text: f.text });
  const input = { requested: options.full ?? false, files: planFiles, ...state, preferIncremental: options.preferIncremental };
  const { fullReason: reason, rebuild } = planOf(input);
  const full = reason !== undefined;
  return {
    plan: {
      full,
      fullReason: reason,
      rebuild,
      batch: full ? state.allComplete : state.pending,
      removed: full ? [] : state.processedNotComplete,
      changed: [...changedFiles(planFiles, state.stored)],
    },
    planFiles,
    stored: state.stored,
  };
}

/**
 * The batch's staged rows and core's rows (the clean rows of the loads it holds, from the ledger: no scan of
 * core), when the batch is at least a quarter of core: undefined otherwise.
 */
async function largeBatch(c: pg.ClientBase, batch: number[]): Promise<{ batch: number; core: number } | undefined> {
  const { rows } = await c.query<{ batch: string; core: string }>(
    `select (select coalesce(sum(l.rows_staged), 0) from meta.loads as l where l.load_id = any($1::bigint[])) as batch,
            (select coalesce(sum(t.rows_clean), 0) from meta.transform_loads as t
               inner join meta.loads as l on l.load_id = t.load_id where l.status = 'complete') as core`,
    [batch],
  );
  const n = { batch: Number(rows[0]!.batch), core: Number(rows[0]!.core) };
  return n.batch * 4 >= n.core ? n : undefined;
}

const ids = (xs: number[]) => (xs.length > 8 ? `${xs.slice(0, 3).join(', ')} … ${xs.slice(-2).join(', ')}` : xs.join(', '));

/** The plan in a few lines, as the run prints it before it starts (and --dry-run prints alone). */
export function describePlan(p: TransformPlan): string[] {
  const lines: string[] = [];
  if (p.full) lines.push(`plan: full rebuild of core: ${p.fullReason}`);
  else if (p.rebuild) lines.push(`plan: incremental, and a rebuild of part of core: ${p.rebuild.reason}`);
  else lines.push('plan: incremental');
  lines.push(p.batch.length ? `  batch: ${p.batch.length} load${p.batch.length === 1 ? '' : 's'} (${ids(p.batch)})` : '  batch: none');
  if (p.removed.length) lines.push(`  leaving core: load${p.removed.length === 1 ? '' : 's'} ${ids(p.removed)}`);
  if (p.rebuild) {
    const r = p.rebuild;
    lines.push(`  rebuilt (emptied, filled again from core): ${r.tables.join(', ') || 'none'}`);
    lines.push(`  downstream, run again in full mode: ${r.downstream.join(', ')}`);
    if (r.rerun.length) lines.push(`  their temporary inputs, made again in full mode: ${r.rerun.join(', ')}`);
    if (r.fromCore.length) lines.push(`  read from core.transactions: ${r.fromCore.join(', ')}`);
  }
  if (p.changed.length && !p.rebuild) lines.push(`  changed files: ${p.changed.join(', ')}`);
  return lines;
}

/** What a run would do now, without doing it: read-only, no lock, no run recorded. */
export async function planTransform(db: { pool: pg.Pool }, options: TransformOptions = {}): Promise<TransformPlan> {
  const dir = options.sqlDir ?? defaultSqlDir;
  const files = await readSqlFiles(dir, dirname(dir));
  const c = await db.pool.connect();
  try {
    await c.query('begin isolation level repeatable read read only');
    const { plan } = await planRun(c, files, options);
    await c.query('rollback');
    return plan;
  } finally {
    c.release();
  }
}

async function columnsOf(c: pg.ClientBase, relation: string): Promise<{ name: string; type: string }[] | undefined> {
  const { rows } = await c.query<{ name: string; type: string }>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
       from pg_attribute as a where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped order by a.attnum`,
    [relation],
  );
  return rows.length ? rows : undefined;
}

/** How to make a FROM_CORE object: the columns of the one made in pass 1 (else the source's, constants first). */
async function fromCoreStatement(c: pg.ClientBase, name: string, form: 'view' | 'table'): Promise<string> {
  const spec = FROM_CORE.get(name)!;
  const source = (await columnsOf(c, spec.source)) ?? [];
  const columns = (await columnsOf(c, name)) ?? [...Object.keys(spec.constants).map((n) => ({ name: n, type: 'integer' })), ...source];
  return fromCoreSql(name, columns, new Set(source.map((x) => x.name)), form);
}

/**
 * Make a FROM_CORE object from its source as it now is: a view on PostgreSQL, a table (analyzed) on Citus,
 * replacing the run's own of that name (whose columns it takes). A selective rebuild makes each one before
 * its files run; a full rebuild once the file that fills its source has run (sql/015 fills core and writes
 * no changes: they are every row of core, +1).
 */
async function makeFromCore(c: pg.ClientBase, name: string, citus: boolean): Promise<void> {
  const statement = await fromCoreStatement(c, name, citus ? 'table' : 'view');
  await dropTemps(c, [name]);
  await c.query(statement);
  if (citus) await c.query(`analyze ${name}`);
}

/** Drop the run's temporary objects of these names that exist (their files make them again). */
async function dropTemps(c: pg.ClientBase, names: string[]): Promise<void> {
  for (const name of names) {
    const object = name.slice('pg_temp.'.length);
    const { rows } = await c.query<{ relkind: string }>(
      `select relkind::text as relkind from pg_class where relnamespace = pg_my_temp_schema() and relname = $1`,
      [object],
    );
    const kind = rows[0]?.relkind;
    if (kind === 'v') await c.query(`drop view pg_temp.${escapeIdentifier(object)} cascade`);
    else if (kind) await c.query(`drop table pg_temp.${escapeIdentifier(object)} cascade`);
  }
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
      const { plan, stored, planFiles } = await planRun(c, files, options);
      const steps = new Set(planFiles.filter((f) => f.isStep).map((f) => f.file));
      const { full, batch, removed, rebuild } = plan;
      reason = plan.fullReason;
      for (const line of describePlan(plan)) log(line);
      let dropped = new Map<string, DroppedIndexes>();
      if (full) {
        dropped = await emptyForBulk(c, files.filter((f) => steps.has(f.file) && f.schema !== 'pg_temp'));
      } else if (removed.length) {
        log(`load${removed.length > 1 ? 's' : ''} ${removed.join(', ')} no longer complete: their rows leave core`);
      }
      // an incremental run over a batch of at least a quarter of core's rows: core.transactions' secondary
      // indexes are built again after its file fills it rather than kept row by row (bulk.ts)
      const bulkCore = !full && batch.length > 0 ? await largeBatch(c, batch) : undefined;
      const citus = await isCitus(c);
      await setRunSettings(c, {
        'transform.run_id': String(runId),
        'transform.is_full': String(full),
        'transform.removed_load_ids': idArray(removed),
        'transform.batch_load_ids': idArray(batch),
      }, citus);
      const changed = new Set(plan.changed);
      const lastStep = files.map((f) => steps.has(f.file)).lastIndexOf(true);
      const downstream = new Set(rebuild?.downstream ?? []);
      const inRebuild = new Set([...downstream, ...(rebuild?.rerun ?? [])]);
      const batchChanged = full || batch.length > 0 || removed.length > 0;
      const results: FileResult[] = [];
      const apply = async (f: SqlFile, mode: { full: boolean; rebuild: boolean }) => {
        const bulk = bulkCore && !mode.full && steps.has(f.file) && f.schema === 'core' && f.object === 'transactions';
        let dropMs = 0;
        if (bulk) {
          const t = performance.now();
          dropped = await dropSecondaryIndexes(c, f);
          dropMs = performance.now() - t;
          // (none dropped when the run cannot act as core's owner: owner.ts has said so)
          if (dropped.size) log(`the batch (${bulkCore.batch.toLocaleString('en-US')} staged rows) is at least a quarter of core (${bulkCore.core.toLocaleString('en-US')} rows): core.transactions' secondary indexes are built again after ${f.file}`);
        }
        const r = await applyFile(c, f, { full: mode.full, changed: changed.has(f.file), dataChanged: batchChanged || downstream.has(f.file) });
        if (mode.full || bulk) {
          const t = performance.now();
          await rebuildAfterBulk(c, dropped, f.schema, f.object);
          // a full rebuild: what is read from the table this file filled is made from it now (a rebuild made it first)
          if (mode.full && !mode.rebuild) for (const [name, spec] of FROM_CORE) if (spec.source === `${f.schema}.${f.object}`) await makeFromCore(c, name, citus);
          r.ms += Math.round(dropMs + performance.now() - t);
        }
        if (mode.rebuild) r.rebuild = true;
        log(`${f.file}: ${r.action}${mode.rebuild ? ' (rebuild)' : ''}${r.rows === null ? '' : `, ${r.rows} rows`} (${r.ms} ms)`);
        results.push(r);
      };
      // pass 1: every file up to the last step (all of them in a full rebuild); the downstream of a rebuild waits for pass 2
      for (const [i, f] of files.entries()) {
        if (i > lastStep && !full) break;
        if (!downstream.has(f.file)) await apply(f, { full, rebuild: false });
      }
      // pass 2: the rebuild of what is downstream of a changed step file, from core as it now is
      if (rebuild) {
        const t = performance.now();
        await setRunSettings(c, { 'transform.is_full': 'true' }, citus);
        const rebuilt = files.filter((f, i) => i <= lastStep && inRebuild.has(f.file));
        const temps = rebuilt.filter((f) => steps.has(f.file)).flatMap((f) => [...fileDeps(f).writes].filter((o) => o.startsWith('pg_temp.')));
        await dropTemps(c, temps.filter((o) => !FROM_CORE.has(o)));
        // the objects read from core take the columns of the ones the batch's run made (or the source's, plus the constants)
        for (const name of rebuild.fromCore) await makeFromCore(c, name, citus);
        dropped = await emptyForBulk(c, rebuild.tables.map((t) => ({ schema: t.split('.')[0]!, object: t.split('.')[1]! })));
        log(`rebuild: ${rebuild.fromCore.join(', ') || 'nothing'} read from core, ${rebuild.tables.join(', ') || 'no table'} emptied (${Math.round(performance.now() - t)} ms)`);
        for (const f of rebuilt) await apply(f, { full: true, rebuild: true });
        await setRunSettings(c, { 'transform.is_full': 'false' }, citus);
      }
      // a temporary view over core would outlive the transaction (it reads no table dropped at commit)
      if (full || rebuild) await dropTemps(c, [...FROM_CORE.keys()]);
      // pass 3: the files after the last step (views): refreshed when the batch or the rebuild changed what they read
      if (!full) for (const f of files.slice(lastStep + 1)) await apply(f, { full: false, rebuild: false });
      for (const f of files) {
        await c.query(
          `insert into meta.transform_files (file, object_name, sha256) values ($1, $2, $3)
           on conflict (file) do update set object_name = excluded.object_name, sha256 = excluded.sha256,
             applied_at = case when meta.transform_files.sha256 = excluded.sha256 then meta.transform_files.applied_at else now() end`,
          [f.file, `${f.schema}.${f.object}`, f.sha256],
        );
      }
      // a file deleted from sql/: its object goes too (tables belong to migrations and stay), unless a file of
      // this run defines it (a copy of sql/ under another folder name, --sql-dir: its files have other names)
      const names = new Set(files.map((f) => f.file));
      const defined = new Set(files.map((f) => `${f.schema}.${f.object}`));
      for (const [file] of stored) {
        if (names.has(file)) continue;
        const { rows: gone } = await c.query<{ object_name: string }>('delete from meta.transform_files where file = $1 returning object_name', [file]);
        const name = gone[0]!.object_name;
        const [schema, object] = name.split('.') as [string, string];
        const st = await objectState(c, schema, object);
        if (defined.has(name)) log(`${file}: no longer read; ${name} is defined by another file now`);
        else if (st && st.kind !== 'table') {
          await dropObject(c, schema, object, st.kind);
          log(`${file}: removed from sql/, dropped ${name}`);
        } else log(`${file}: removed from sql/; ${name} stays${st ? ' (a table of the migrations)' : ''}`);
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
           loads_processed = $4, rows_processed = $5, files = $6, rebuild_reason = $7, rebuilt = $8 where run_id = $1`,
        [runId, full, reason ?? null, s.loads, s.staged, JSON.stringify(results), rebuild?.reason ?? null, rebuild ? rebuild.tables : null],
      );
      await c.query(`select pg_notify('transforms_completed', $1)`, [String(runId)]);
      await c.query('commit');
      return {
        runId, full, fullReason: reason, loads: s.loads, rowsStaged: s.staged, rowsClean: s.clean,
        rowsQuarantined: s.quarantined, rowsDuplicate: s.duplicate, files: results, ms: Math.round(performance.now() - started), rebuild,
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
