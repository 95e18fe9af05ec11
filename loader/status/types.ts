/** What `npm run status` reports (also its --json output). Times are ISO strings; ages are seconds, by the database's clock. */
export interface StatusSnapshot {
  checkedAt: string;
  /** the newest complete load */
  newestLoad: { loadId: number; source: string; finishedAt: string; ageSeconds: number } | null;
  /** complete loads the transform has not processed yet */
  waiting: { count: number; oldestLoadId: number | null; oldestSince: string | null; waitedSeconds: number | null };
  /** running loads; `alive`: the loading process still holds the load's advisory lock */
  running: { loadId: number; source: string; startedAt: string; ageSeconds: number; alive: boolean }[];
  /** failed loads that finished after the newest complete load (loads replaced by --force excluded); the 5 latest */
  failedSinceNewest: { count: number; recent: { loadId: number; source: string; finishedAt: string | null; error: string | null }[] };
  lastRun: {
    runId: number;
    status: 'running' | 'complete' | 'failed';
    full: boolean;
    fullReason: string | null;
    startedAt: string;
    finishedAt: string | null;
    seconds: number;
    ageSeconds: number;
    loads: number | null;
    error: string | null;
  } | null;
  lastFailedRun: { runId: number; startedAt: string; finishedAt: string | null; error: string | null } | null;
  lastCompleteRunId: number | null;
  /** the day after the latest invoice_date (contract §4), from features.customer_features */
  asOfDate: string | null;
  /** relations of schema features; rows: count(*) of tables and populated materialized views, null for plain views */
  views: { name: string; kind: 'materialized view' | 'view' | 'table'; rows: number | null }[];
}

export interface StatusReport extends StatusSnapshot {
  healthy: boolean;
  /** why it is not healthy (empty when healthy) */
  problems: string[];
}
