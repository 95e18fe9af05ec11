/**
 * The bulk path of a full rebuild (I/O): every table a step file fills is emptied, its indexes (and the
 * constraints they back) are dropped, and they are built again, and the table analyzed, right after its
 * file has filled it. Building an index over a filled table is many times faster than growing it row by
 * row. An incremental run over a large batch takes the same path for core.transactions' secondary indexes
 * only (dropSecondaryIndexes). Only the table's owner may drop them; for another role (e.g. transformer
 * when it does not own core) the indexes stay and the rows go in through them: slower, the same result.
 */
import type { ClientBase } from 'pg';

import { qualified } from './catalog.js';

export interface DroppedIndexes {
  /** statements that build the indexes and constraints again */
  rebuild: string[];
}

async function owns(c: ClientBase, table: string): Promise<boolean> {
  const { rows } = await c.query<{ ok: boolean }>(
    `select pg_has_role(current_user, relowner, 'usage') as ok from pg_class where oid = $1::regclass`,
    [table],
  );
  return rows[0]?.ok === true;
}

/** Empty the tables; drop the indexes of those this role owns, returning how to build them again. */
export async function emptyForBulk(c: ClientBase, tables: { schema: string; object: string }[]): Promise<Map<string, DroppedIndexes>> {
  const names = [...new Set(tables.map((t) => qualified(t.schema, t.object)))];
  if (!names.length) return new Map();
  await c.query(`truncate ${names.join(', ')}`);
  const out = new Map<string, DroppedIndexes>();
  // the tables of core: large, and none read through its own index while its file fills it
  for (const table of tables.filter((t) => t.schema === 'core').map((t) => qualified(t.schema, t.object))) {
    if (out.has(table)) continue;
    const d = await dropIndexes(c, table, { constraints: true });
    if (d) out.set(table, d);
  }
  return out;
}

/**
 * An incremental run whose batch is large beside what core holds (a backfill of months onto weeks): the
 * secondary indexes of `table` (those backing no constraint) are dropped, if this role owns it, and built
 * again after its file filled it (rebuildAfterBulk), as in a full rebuild. Keeping them row by row cost
 * ~18 µs a row at 500,000 rows onto 38,000 (three indexes; 015: 15.6 s → 6.5 s), building them again ~4 µs
 * a row of the whole table: past about a quarter of the table, the rebuild costs less. The primary key
 * stays: the run deletes and finds rows by it.
 */
export async function dropSecondaryIndexes(c: ClientBase, table: { schema: string; object: string }): Promise<Map<string, DroppedIndexes>> {
  const name = qualified(table.schema, table.object);
  const d = await dropIndexes(c, name, { constraints: false });
  return new Map(d ? [[name, d]] : []);
}

async function dropIndexes(c: ClientBase, table: string, options: { constraints: boolean }): Promise<DroppedIndexes | undefined> {
  if (!(await owns(c, table))) return undefined;
  const { rows } = await c.query<{ index: string; indexdef: string; constraint: string | null; constraintdef: string | null }>(
    `select i.indexrelid::regclass::text as index, pg_get_indexdef(i.indexrelid) as indexdef,
            quote_ident(con.conname) as constraint, pg_get_constraintdef(con.oid) as constraintdef
       from pg_index as i
       left join pg_constraint as con on con.conindid = i.indexrelid and con.conrelid = i.indrelid
      where i.indrelid = $1::regclass
      order by i.indexrelid`,
    [table],
  );
  const rebuild: string[] = [];
  for (const r of rows) {
    if (r.constraint) {
      if (!options.constraints) continue;
      await c.query(`alter table ${table} drop constraint ${r.constraint}`);
      rebuild.push(`alter table ${table} add constraint ${r.constraint} ${r.constraintdef}`);
    } else {
      await c.query(`drop index ${r.index}`);
      rebuild.push(r.indexdef);
    }
  }
  return { rebuild };
}

/** After a step file filled its table in bulk: build its indexes again and analyze it. */
export async function rebuildAfterBulk(c: ClientBase, dropped: Map<string, DroppedIndexes>, schema: string, object: string): Promise<void> {
  const table = qualified(schema, object);
  const d = dropped.get(table);
  if (!d) return;
  dropped.delete(table);
  for (const statement of d.rebuild) await c.query(statement);
  await c.query(`analyze ${table}`);
}
