/**
 * Test-only staging: writes meta.loads + staging.transactions directly by SQL, as a complete load would
 * leave them, so the transform can be tested without the loader. Not a loader: no rejects, no CSV rules.
 */
import { createHash, randomBytes } from 'node:crypto';

import type pg from 'pg';

export const stagingColumns = ['invoice_no', 'stock_code', 'description', 'quantity', 'invoice_date', 'unit_price', 'customer_id', 'country'] as const;
export type StagedRow = Partial<Record<(typeof stagingColumns)[number], string | null>>;

/** A valid sale line; override what a test is about. */
export function row(overrides: StagedRow = {}): StagedRow {
  return {
    invoice_no: '536365', stock_code: '85123A', description: 'WHITE HANGING HEART T-LIGHT HOLDER', quantity: '6',
    invoice_date: '2010-12-01 08:26:00', unit_price: '2.55', customer_id: '17850.0', country: 'United Kingdom',
    ...overrides,
  };
}

async function newLoad(c: pg.PoolClient, source: string, status: string, rows: number): Promise<number> {
  const sha = createHash('sha256').update(randomBytes(16)).digest('hex');
  const { rows: r } = await c.query<{ load_id: number }>(
    `insert into meta.loads (source, sha256, byte_size, rows_read, rows_staged, rows_rejected, status, finished_at)
     values ($1, $2, 0, $3, $3, 0, $4, case when $4 = 'running' then null else now() end) returning load_id::int as load_id`,
    [source, sha, rows, status],
  );
  return r[0]!.load_id;
}

/** Stage rows as one load (line_no 2, 3, … as after a header); returns its load_id. */
export async function stageRows(pool: pg.Pool, rows: StagedRow[], options: { source?: string; status?: 'complete' | 'running' | 'failed' } = {}): Promise<number> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    const loadId = await newLoad(c, options.source ?? 'fixture.csv', options.status ?? 'complete', rows.length);
    for (const [i, r] of rows.entries()) {
      await c.query(
        `insert into staging.transactions (load_id, line_no, ${stagingColumns.join(', ')}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [loadId, i + 2, ...stagingColumns.map((k) => r[k] ?? null)],
      );
    }
    await c.query('commit');
    return loadId;
  } catch (err) {
    await c.query('rollback');
    throw err;
  } finally {
    c.release();
  }
}
