/** What the report shows: every figure comes from an aggregate query (queries.ts). */
export interface LastRun {
  runId: number;
  finishedAt: string;
  isFull: boolean;
  fullReason: string | null;
  durationMs: number;
  loadsProcessed: number;
  rowsProcessed: number;
}

export interface Headline {
  /** the day after the latest invoice_date (contract §4), or null before any customer */
  asOfDate: string | null;
  /** complete loads */
  loads: number;
  /** complete loads the transform has not processed yet */
  loadsPending: number;
  rowsRead: number;
  rowsStaged: number;
  rowsRejected: number;
  rowsQuarantined: number;
  rowsDuplicate: number;
  rowsClean: number;
  customers: number;
  orders: number;
  /** exact decimal text: Σ features.daily_sales.gross_revenue */
  grossRevenue: string;
  /** exact decimal text: Σ features.daily_sales.returns_value */
  returnsValue: string;
  firstDay: string | null;
  lastDay: string | null;
  lastRun: LastRun | null;
}

export const QUARANTINE_REASONS = ['missing_invoice_no', 'missing_stock_code', 'bad_quantity', 'bad_unit_price', 'bad_invoice_date', 'bad_customer_id'] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

export interface LoadQuality {
  loadId: number;
  source: string;
  startedAt: string;
  rowsRead: number;
  rejected: number;
  quarantined: number;
  byReason: Record<QuarantineReason, number>;
  duplicates: number;
  /** false: the transform has not processed it (quarantine and duplicates unknown) */
  transformed: boolean;
}

export interface DictionaryRow {
  schema: string;
  relation: string;
  kind: string;
  relationComment: string | null;
  column: string;
  type: string;
  comment: string | null;
  analystReadable: boolean;
}

export interface ReportData {
  headline: Headline;
  daily: { day: string; orders: number; grossRevenue: number; returnsValue: number }[];
  cohorts: { cohortMonth: string; monthNumber: number; cohortSize: number; activeCustomers: number; retention: number }[];
  rfmCells: { rScore: number; fScore: number; customers: number; monetary: number }[];
  topProducts: { stockCode: string; description: string; revenue: number; units: number; orders: number }[];
  dqLoads: LoadQuality[];
  worstLoads: LoadQuality[];
  runs: { runId: number; startedAt: string; status: string; isFull: boolean; durationMs: number; loadsProcessed: number; rowsProcessed: number }[];
  lastRunFiles: { file: string; action: string; durationMs: number; rows: number | null }[];
  dictionary: DictionaryRow[];
}
