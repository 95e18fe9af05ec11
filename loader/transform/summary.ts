/** The pipeline's closing summary (npm start): what was loaded and made of it, rows per feature view. */
import type pg from 'pg';

const n = (x: unknown) => Number(x ?? 0).toLocaleString('en-US');

export const featureViews = ['features.customer_features', 'features.daily_sales', 'features.product_features', 'features.customer_cohorts'] as const;

export async function pipelineSummary(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query(
    `select count(*) as loads, sum(rows_read) as read, sum(rows_rejected) as rejected, sum(rows_staged) as staged,
            sum(rows_quarantined) as quarantined, sum(duplicates) as duplicates, sum(rows_clean) as clean
       from meta.load_summary where status = 'complete'`,
  );
  const t = rows[0] as Record<string, unknown>;
  const lines = [
    `loaded:      ${n(t.loads)} complete loads, ${n(t.read)} rows read, ${n(t.rejected)} rejected, ${n(t.staged)} staged`,
    `transformed: ${n(t.clean)} clean rows in core.transactions, ${n(t.quarantined)} quarantined, ${n(t.duplicates)} duplicates`,
  ];
  const counts: string[] = [];
  for (const view of featureViews) {
    // the names are the constants above, never input
    const r = await pool.query(`select count(*) as n from ${view}`);
    counts.push(`${view} ${n(r.rows[0].n)}`);
  }
  lines.push(`features:    ${counts.join(', ')}`);
  return lines;
}
