/** What the database says about past transforms: applied files, processed and pending loads (I/O). */
import type { ClientBase } from 'pg';

export interface LoadState {
  stored: Map<string, string>;
  processedNotComplete: number[];
  pending: number[];
  allComplete: number[];
  maxProcessed: number | undefined;
  /** how many loads the transform processed that are still complete */
  processedComplete: number;
}

export async function readState(c: ClientBase): Promise<LoadState> {
  const files = await c.query<{ file: string; sha256: string }>('select file, sha256 from meta.transform_files');
  const gone = await c.query<{ load_id: number }>(
    `select t.load_id from meta.transform_loads as t
       left join meta.loads as l on l.load_id = t.load_id
      where l.status is distinct from 'complete' order by t.load_id`,
  );
  const complete = await c.query<{ load_id: number; is_processed: boolean }>(
    `select l.load_id, t.load_id is not null as is_processed
       from meta.loads as l left join meta.transform_loads as t on t.load_id = l.load_id
      where l.status = 'complete' order by l.load_id`,
  );
  const max = await c.query<{ max: number | null }>('select max(load_id) as max from meta.transform_loads');
  return {
    stored: new Map(files.rows.map((r) => [r.file, r.sha256])),
    processedNotComplete: gone.rows.map((r) => Number(r.load_id)),
    pending: complete.rows.filter((r) => !r.is_processed).map((r) => Number(r.load_id)),
    allComplete: complete.rows.map((r) => Number(r.load_id)),
    maxProcessed: max.rows[0]?.max == null ? undefined : Number(max.rows[0].max),
    processedComplete: complete.rows.filter((r) => r.is_processed).length,
  };
}
