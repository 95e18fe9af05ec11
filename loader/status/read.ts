/**
 * What `npm run status` reads (I/O): index lookups on the ledger and the transform's bookkeeping, the
 * advisory locks of running loads (pg_locks), and count(*) of the features materialized views (small by
 * design: one row per customer, day, product, cohort cell). Never a scan of staging or core. Ages are
 * computed by the database (its clock), so a skewed client clock cannot make data look old.
 */
import { escapeIdentifier, type ClientBase } from 'pg';

import { EXIT, UserError } from '../errors.js';
import type { StatusSnapshot } from './types.js';

/** The loader's advisory lock on a running load: (0x4C4F4144 "LOAD", load_id mod 2^31), see loader/load/ledger.ts. */
const LOAD_LOCK_NS = 0x4c4f4144;

/** The fixed queries, by name (tests EXPLAIN them: none may touch staging or core). */
export const statusQueries = {
  newestLoad: `
    select load_id, source, finished_at, extract(epoch from now() - finished_at)::float8 as age_seconds
      from meta.loads where status = 'complete' order by finished_at desc limit 1`,
  waiting: `
    select count(*)::int as count, min(loads.finished_at) as oldest_at,
           extract(epoch from now() - min(loads.finished_at))::float8 as waited_seconds,
           (array_agg(loads.load_id order by loads.finished_at))[1] as oldest_load_id
      from meta.loads as loads
     where loads.status = 'complete'
       and not exists (select from meta.transform_loads as t where t.load_id = loads.load_id)`,
  running: `
    select loads.load_id, loads.source, loads.started_at,
           extract(epoch from now() - loads.started_at)::float8 as age_seconds,
           exists (
             select from pg_locks as l
              where l.locktype = 'advisory' and l.granted and l.objsubid = 2
                and l.database = (select oid from pg_database where datname = current_database())
                and l.classid = ${LOAD_LOCK_NS}::oid and l.objid = (loads.load_id % 2147483648)::oid
           ) as is_alive
      from meta.loads as loads where loads.status = 'running' order by loads.load_id`,
  failedSince: `
    select load_id, source, finished_at, error, count(*) over ()::int as total
      from meta.loads
     where status = 'failed' and finished_at > coalesce($1::timestamptz, '-infinity') and coalesce(error, '') not like 'replaced by load %'
     order by finished_at desc limit 5`,
  lastRun: `
    select run_id, status, is_full, full_reason, started_at, finished_at, loads_processed, error,
           extract(epoch from coalesce(finished_at, now()) - started_at)::float8 as seconds,
           extract(epoch from now() - coalesce(finished_at, started_at))::float8 as age_seconds
      from meta.transform_runs order by run_id desc limit 1`,
  lastFailedRun: `
    select run_id, started_at, finished_at, error from meta.transform_runs where status = 'failed' order by run_id desc limit 1`,
  lastCompleteRun: `
    select run_id from meta.transform_runs where status = 'complete' order by run_id desc limit 1`,
  views: `
    select format('%s.%s', n.nspname, c.relname) as name, n.nspname as schema, c.relname as relation, c.relkind::text as kind, c.relispopulated as populated
      from pg_class as c inner join pg_namespace as n on n.oid = c.relnamespace
     where n.nspname = 'features' and c.relkind in ('m', 'r', 'p', 'v') order by c.relname`,
  // contract §4: recency_days = as_of_date − date(last_purchase_at), so any row gives as_of_date exactly
  asOf: `select (last_purchase_at::date + recency_days)::text as as_of_date from features.customer_features limit 1`,
} as const;

const num = (v: unknown): number => Number(v);

export async function readStatus(c: ClientBase): Promise<StatusSnapshot> {
  const ready = await c.query<{ ok: boolean }>(`select to_regclass('meta.loads') is not null and to_regclass('meta.transform_runs') is not null as ok`);
  if (!ready.rows[0]!.ok) throw new UserError('the database is not migrated (no meta.loads / meta.transform_runs): run npm run migrate', EXIT.usage);
  try {
    return await read(c);
  } catch (err) {
    if ((err as { code?: string }).code === '42501') {
      throw new UserError(`${(err as Error).message}: status reads meta.loads, meta.transform_runs and features; run it as the transform's login or the owner`, EXIT.usage);
    }
    throw err;
  }
}

async function read(c: ClientBase): Promise<StatusSnapshot> {
  const q = statusQueries;
  const [now] = (await c.query<{ now: Date }>('select now() as now')).rows;
  const newest = (await c.query(q.newestLoad)).rows[0];
  const waiting = (await c.query(q.waiting)).rows[0]!;
  const running = (await c.query(q.running)).rows;
  const failed = (await c.query(q.failedSince, [newest?.finished_at ?? null])).rows;
  const last = (await c.query(q.lastRun)).rows[0];
  const lastFailed = (await c.query(q.lastFailedRun)).rows[0];
  const lastComplete = (await c.query(q.lastCompleteRun)).rows[0];
  const views: StatusSnapshot['views'] = [];
  for (const v of (await c.query<{ name: string; schema: string; relation: string; kind: string; populated: boolean }>(q.views)).rows) {
    const counted = v.kind !== 'v' && v.populated; // a plain view computes on read: not counted
    const rows = counted ? num((await c.query(`select count(*) as n from ${escapeIdentifier(v.schema)}.${escapeIdentifier(v.relation)}`)).rows[0].n) : null;
    views.push({ name: v.name, kind: v.kind === 'm' ? 'materialized view' : v.kind === 'v' ? 'view' : 'table', rows });
  }
  let asOfDate: string | null = null;
  if (views.some((v) => v.name === 'features.customer_features' && v.rows !== null)) {
    asOfDate = (await c.query<{ as_of_date: string }>(q.asOf)).rows[0]?.as_of_date ?? null;
  }
  return {
    checkedAt: now!.now.toISOString(),
    newestLoad: newest ? { loadId: num(newest.load_id), source: newest.source, finishedAt: newest.finished_at.toISOString(), ageSeconds: newest.age_seconds } : null,
    waiting: {
      count: waiting.count,
      oldestLoadId: waiting.oldest_load_id === null ? null : num(waiting.oldest_load_id),
      oldestSince: waiting.oldest_at?.toISOString() ?? null,
      waitedSeconds: waiting.waited_seconds ?? null,
    },
    running: running.map((r) => ({ loadId: num(r.load_id), source: r.source, startedAt: r.started_at.toISOString(), ageSeconds: r.age_seconds, alive: r.is_alive })),
    failedSinceNewest: {
      count: failed[0]?.total ?? 0,
      recent: failed.map((r) => ({ loadId: num(r.load_id), source: r.source, finishedAt: r.finished_at?.toISOString() ?? null, error: r.error })),
    },
    lastRun: last
      ? {
          runId: num(last.run_id), status: last.status, full: last.is_full, fullReason: last.full_reason, startedAt: last.started_at.toISOString(),
          finishedAt: last.finished_at?.toISOString() ?? null, seconds: last.seconds, ageSeconds: last.age_seconds, loads: last.loads_processed, error: last.error,
        }
      : null,
    lastFailedRun: lastFailed
      ? { runId: num(lastFailed.run_id), startedAt: lastFailed.started_at.toISOString(), finishedAt: lastFailed.finished_at?.toISOString() ?? null, error: lastFailed.error }
      : null,
    lastCompleteRunId: lastComplete ? num(lastComplete.run_id) : null,
    asOfDate,
    views,
  };
}
