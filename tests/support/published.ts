/**
 * Every published row, as the queries that read it: the four feature views and the per-load accounting.
 * Tests compare two databases with these (`except` both ways). Load ids are the same in both databases when
 * one is a copy of the other, or when the same loads were made in the same order (--jobs 1).
 */
export const PUBLISHED_QUERIES: readonly string[] = [
  'select * from features.customer_features',
  'select * from features.daily_sales',
  'select * from features.product_features',
  'select * from features.customer_cohorts',
  `select load_id, source, status, rows_read, rows_rejected, rows_staged, rows_quarantined, quarantined_missing_invoice_no,
          quarantined_missing_stock_code, quarantined_bad_quantity, quarantined_bad_unit_price, quarantined_bad_invoice_date,
          quarantined_bad_customer_id, duplicates, rows_clean from meta.load_summary`,
];
