/**
 * Writing training sets (I/O): for each cutoff, features.training_set(cutoff, horizon_days) streamed
 * through a cursor (a batch at a time, every value as PostgreSQL's text) into one CSV or Parquet file.
 * All cutoffs read one snapshot (a repeatable-read, read-only transaction): a transform committing
 * meanwhile does not mix two states of core in one file.
 */
import pg from 'pg';
import Cursor from 'pg-cursor';

import type { Database } from '../db.js';
import { EXIT, UserError } from '../errors.js';
import type { Format } from './args.js';
import { COLUMNS } from './columns.js';
import { openSink, type TextRow } from './sinks.js';

export interface CutoffResult {
  cutoff_date: string;
  rows: number;
  seconds: number;
}

export interface ExportOptions {
  cutoffs: string[];
  horizonDays: number;
  out: string;
  format: Format;
  /** after each cutoff is written */
  onCutoff?: (result: CutoffResult, index: number, total: number) => void;
  batchRows?: number;
}

export interface ExportSummary {
  out: string;
  format: Format;
  horizon_days: number;
  rows: number;
  bytes: number;
  seconds: number;
  cutoffs: CutoffResult[];
}

// column names are constants of ours, never input
export const TRAINING_SET_SQL = `select ${COLUMNS.map((c) => c.name).join(', ')} from features.training_set($1::date, $2::integer)`;

/** every column as the server's text output: exact numerics, dates without a time zone */
const asText: pg.CustomTypesConfig = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

const seconds = (since: number) => Number(((performance.now() - since) / 1000).toFixed(3));

/** A database error: an argument the function refuses (SQLSTATE 22023, 22004) is the user's (exit 2). */
function explain(err: unknown, cutoff: string | undefined): unknown {
  const e = err as { code?: unknown; message?: string };
  if (typeof e?.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return err;
  const where = cutoff ? `cutoff ${cutoff}: ` : '';
  if (e.code === '22023' || e.code === '22004') return new UserError(`${where}${e.message}`, EXIT.usage);
  if (e.code === '42883' || e.code === '3F000') return new UserError(`${where}${e.message} (run npm run transform first)`, EXIT.usage);
  if (e.code === '42501') return new UserError(`${where}${e.message}`, EXIT.usage);
  return new UserError(`${where}${e.message} (SQLSTATE ${e.code})`, EXIT.failed);
}

export async function exportTrainingSet(db: Database, o: ExportOptions): Promise<ExportSummary> {
  const started = performance.now();
  const batchRows = o.batchRows ?? 10_000;
  const client = await db.pool.connect();
  const sink = openSink(o.format, o.out);
  const cutoffs: CutoffResult[] = [];
  let current: string | undefined;
  try {
    await client.query('begin isolation level repeatable read read only');
    for (const [index, cutoff] of o.cutoffs.entries()) {
      current = cutoff;
      const t = performance.now();
      const cursor = client.query(new Cursor<TextRow>(TRAINING_SET_SQL, [cutoff, o.horizonDays], { rowMode: 'array', types: asText }));
      let rows = 0;
      try {
        for (;;) {
          const batch = await cursor.read(batchRows);
          if (!batch.length) break;
          rows += batch.length;
          await sink.push(batch);
        }
      } finally {
        await cursor.close().catch(() => undefined);
      }
      const result = { cutoff_date: cutoff, rows, seconds: seconds(t) };
      cutoffs.push(result);
      o.onCutoff?.(result, index, o.cutoffs.length);
    }
    current = undefined;
    await client.query('commit');
    const bytes = await sink.finish();
    return { out: o.out, format: o.format, horizon_days: o.horizonDays, rows: cutoffs.reduce((a, c) => a + c.rows, 0), bytes, seconds: seconds(started), cutoffs };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    await sink.abort();
    throw explain(err, current);
  } finally {
    client.release();
  }
}
