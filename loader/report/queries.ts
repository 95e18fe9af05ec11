/**
 * What the report shows, read from the database (I/O). Only relations the role `analyst` may read
 * (features.*, meta.load_summary, meta.transform_history, meta.transform_file_timings, meta.data_dictionary),
 * only aggregate queries (a few hundred rows at most come back, however large core is), in one
 * read-only repeatable-read transaction: every section sees the same moment.
 */
import type { ClientBase } from 'pg';

import { EXIT, UserError } from '../errors.js';
import { toData } from './shape.js';
import type { ReportData } from './types.js';

/** the relations the report reads; each must exist and be readable by the login */
export const REPORT_RELATIONS = [
  'features.customer_features',
  'features.daily_sales',
  'features.product_features',
  'features.customer_cohorts',
  'meta.load_summary',
  'meta.transform_history',
  'meta.transform_file_timings',
  'meta.data_dictionary',
] as const;

/** loads shown in the data-quality chart (the latest ones); the worst loads are picked from all of them */
export const DQ_CHART_LOADS = 400;
export const WORST_LOADS = 10;
export const RUNS_SHOWN = 30;
export const TOP_PRODUCTS = 20;

async function checkRelations(c: ClientBase): Promise<void> {
  // from the catalogs (readable by every login), not to_regclass: that fails outright without usage on the schema
  const { rows } = await c.query<{ name: string; present: boolean; readable: boolean | null }>(
    `select wanted.name, rel.oid is not null as present,
            has_schema_privilege(rel.relnamespace, 'usage') and has_table_privilege(rel.oid, 'select') as readable
       from unnest($1::text[]) with ordinality as wanted (name, position)
       left join (select c.oid, c.relnamespace, n.nspname || '.' || c.relname as name
                    from pg_catalog.pg_class as c inner join pg_catalog.pg_namespace as n on n.oid = c.relnamespace) as rel
         on rel.name = wanted.name
      order by wanted.position`,
    [REPORT_RELATIONS],
  );
  const missing = rows.filter((r) => !r.present).map((r) => r.name);
  if (missing.length) throw new UserError(`${missing.join(', ')} not found: run the migrations and a transform first (npm run transform)`, EXIT.failed);
  const denied = rows.filter((r) => !r.readable).map((r) => r.name);
  if (denied.length) throw new UserError(`this login may not read ${denied.join(', ')}: grant analyst to it`, EXIT.usage);
}

export async function readReportData(c: ClientBase): Promise<ReportData> {
  await c.query('begin isolation level repeatable read read only');
  try {
    await checkRelations(c);
    const q = async <T>(sql: string, params: unknown[] = []) => (await c.query(sql, params)).rows as T[];
    const [totals] = await q<Record<string, unknown>>(
      `select count(*) filter (where status = 'complete') as loads,
              coalesce(sum(rows_read) filter (where status = 'complete'), 0) as rows_read,
              coalesce(sum(rows_rejected) filter (where status = 'complete'), 0) as rows_rejected,
              coalesce(sum(rows_staged) filter (where status = 'complete'), 0) as rows_staged,
              coalesce(sum(rows_quarantined) filter (where status = 'complete'), 0) as rows_quarantined,
              coalesce(sum(duplicates) filter (where status = 'complete'), 0) as duplicates,
              coalesce(sum(rows_clean) filter (where status = 'complete'), 0) as rows_clean,
              count(*) filter (where status = 'complete' and rows_clean is null) as loads_pending
         from meta.load_summary`,
    );
    const [sales] = await q<Record<string, unknown>>(
      `select coalesce(sum(gross_revenue), 0)::text as gross_revenue, coalesce(sum(returns_value), 0)::text as returns_value,
              coalesce(sum(orders), 0) as orders, min(day)::text as first_day, max(day)::text as last_day
         from features.daily_sales`,
    );
    // as_of_date (contract §4) from the features: last purchase date + recency_days is the same for every customer
    const [customers] = await q<Record<string, unknown>>(
      `select count(*) as customers, min(last_purchase_at::date + recency_days)::text as as_of_date from features.customer_features`,
    );
    const [lastRun] = await q<Record<string, unknown>>(
      `select run_id, finished_at, is_full, full_reason, duration_ms, loads_processed, rows_processed
         from meta.transform_history where status = 'complete' order by run_id desc limit 1`,
    );
    const daily = await q<Record<string, unknown>>(`select day::text as day, orders, gross_revenue::float8 as gross_revenue, returns_value::float8 as returns_value from features.daily_sales order by day`);
    const cohorts = await q<Record<string, unknown>>(
      `select cohort_month::text as cohort_month, month_number, cohort_size, active_customers, retention::float8 as retention
         from features.customer_cohorts order by cohort_month, month_number`,
    );
    const rfm = await q<Record<string, unknown>>(
      `select r_score, f_score, count(*) as customers, sum(monetary)::float8 as monetary
         from features.customer_features group by r_score, f_score order by r_score, f_score`,
    );
    const products = await q<Record<string, unknown>>(
      `select stock_code, description, revenue::float8 as revenue, units, orders
         from features.product_features order by revenue desc, stock_code limit $1`,
      [TOP_PRODUCTS],
    );
    const dqColumns = `load_id, source, status, rows_read, rows_rejected, rows_quarantined,
              quarantined_missing_invoice_no, quarantined_missing_stock_code, quarantined_bad_quantity,
              quarantined_bad_unit_price, quarantined_bad_invoice_date, quarantined_bad_customer_id, duplicates, started_at::text as started_at`;
    const dqLoads = await q<Record<string, unknown>>(
      `select * from (select ${dqColumns} from meta.load_summary where status = 'complete' order by load_id desc limit $1) as latest order by load_id`,
      [DQ_CHART_LOADS],
    );
    const worst = await q<Record<string, unknown>>(
      `select ${dqColumns}, coalesce(rows_rejected, 0) + coalesce(rows_quarantined, 0) + coalesce(duplicates, 0) as problems
         from meta.load_summary where status = 'complete'
          and coalesce(rows_rejected, 0) + coalesce(rows_quarantined, 0) + coalesce(duplicates, 0) > 0
        order by problems desc, load_id limit $1`,
      [WORST_LOADS],
    );
    const runs = await q<Record<string, unknown>>(
      `select * from (select run_id, started_at::text as started_at, status, is_full, duration_ms, loads_processed, rows_processed
                        from meta.transform_history where status <> 'running' order by run_id desc limit $1) as latest order by run_id`,
      [RUNS_SHOWN],
    );
    const files = lastRun
      ? await q<Record<string, unknown>>(`select file, action, duration_ms, rows from meta.transform_file_timings where run_id = $1 order by position`, [lastRun.run_id])
      : [];
    const dictionary = await q<Record<string, unknown>>(
      `select schema_name, relation_name, relation_kind, relation_comment, column_name, data_type, column_comment, is_readable_by_analyst
         from meta.data_dictionary order by array_position(array['features', 'meta', 'core', 'staging'], schema_name), relation_name, column_position`,
    );
    return toData({ totals: totals!, sales: sales!, customers: customers!, lastRun, daily, cohorts, rfm, products, dqLoads, worst, runs, files, dictionary });
  } finally {
    await c.query('rollback').catch(() => undefined);
  }
}
