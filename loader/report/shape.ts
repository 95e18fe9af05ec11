/** The query rows turned into the report's typed data (pure). */
import type { ReportData } from './types.js';

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

type Row = Record<string, unknown>;

function dqRow(r: Row) {
  return {
    loadId: num(r.load_id),
    source: String(r.source),
    startedAt: String(r.started_at),
    rowsRead: num(r.rows_read),
    rejected: num(r.rows_rejected),
    quarantined: num(r.rows_quarantined),
    byReason: {
      missing_invoice_no: num(r.quarantined_missing_invoice_no),
      missing_stock_code: num(r.quarantined_missing_stock_code),
      bad_quantity: num(r.quarantined_bad_quantity),
      bad_unit_price: num(r.quarantined_bad_unit_price),
      bad_invoice_date: num(r.quarantined_bad_invoice_date),
      bad_customer_id: num(r.quarantined_bad_customer_id),
    },
    duplicates: num(r.duplicates),
    transformed: r.rows_quarantined !== null,
  };
}

export function toData(r: { totals: Row; sales: Row; customers: Row; lastRun: Row | undefined; daily: Row[]; cohorts: Row[]; rfm: Row[]; products: Row[]; dqLoads: Row[]; worst: Row[]; runs: Row[]; files: Row[]; dictionary: Row[] }): ReportData {
  return {
    headline: {
      asOfDate: (r.customers.as_of_date as string | null) ?? null,
      loads: num(r.totals.loads),
      loadsPending: num(r.totals.loads_pending),
      rowsRead: num(r.totals.rows_read),
      rowsStaged: num(r.totals.rows_staged),
      rowsRejected: num(r.totals.rows_rejected),
      rowsQuarantined: num(r.totals.rows_quarantined),
      rowsDuplicate: num(r.totals.duplicates),
      rowsClean: num(r.totals.rows_clean),
      customers: num(r.customers.customers),
      orders: num(r.sales.orders),
      grossRevenue: String(r.sales.gross_revenue),
      returnsValue: String(r.sales.returns_value),
      firstDay: (r.sales.first_day as string | null) ?? null,
      lastDay: (r.sales.last_day as string | null) ?? null,
      lastRun: r.lastRun
        ? {
            runId: num(r.lastRun.run_id),
            finishedAt: (r.lastRun.finished_at as Date).toISOString(),
            isFull: Boolean(r.lastRun.is_full),
            fullReason: (r.lastRun.full_reason as string | null) ?? null,
            durationMs: num(r.lastRun.duration_ms),
            loadsProcessed: num(r.lastRun.loads_processed),
            rowsProcessed: num(r.lastRun.rows_processed),
          }
        : null,
    },
    daily: r.daily.map((d) => ({ day: String(d.day), orders: num(d.orders), grossRevenue: num(d.gross_revenue), returnsValue: num(d.returns_value) })),
    cohorts: r.cohorts.map((d) => ({ cohortMonth: String(d.cohort_month), monthNumber: num(d.month_number), cohortSize: num(d.cohort_size), activeCustomers: num(d.active_customers), retention: num(d.retention) })),
    rfmCells: r.rfm.map((d) => ({ rScore: num(d.r_score), fScore: num(d.f_score), customers: num(d.customers), monetary: num(d.monetary) })),
    topProducts: r.products.map((d) => ({ stockCode: String(d.stock_code), description: (d.description as string | null) ?? '', revenue: num(d.revenue), units: num(d.units), orders: num(d.orders) })),
    dqLoads: r.dqLoads.map(dqRow),
    worstLoads: r.worst.map(dqRow),
    runs: r.runs.map((d) => ({ runId: num(d.run_id), startedAt: String(d.started_at), status: String(d.status), isFull: Boolean(d.is_full), durationMs: num(d.duration_ms), loadsProcessed: num(d.loads_processed), rowsProcessed: num(d.rows_processed) })),
    lastRunFiles: r.files.map((d) => ({ file: String(d.file), action: String(d.action), durationMs: num(d.duration_ms), rows: d.rows === null ? null : num(d.rows) })),
    dictionary: r.dictionary.map((d) => ({
      schema: String(d.schema_name),
      relation: String(d.relation_name),
      kind: String(d.relation_kind),
      relationComment: (d.relation_comment as string | null) ?? null,
      column: String(d.column_name),
      type: String(d.data_type),
      comment: (d.column_comment as string | null) ?? null,
      analystReadable: Boolean(d.is_readable_by_analyst),
    })),
  };
}
