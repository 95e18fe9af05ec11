/** What the database holds for a sql/ file's object, and how to drop it (I/O). */
import { escapeIdentifier, type ClientBase } from 'pg';

export type ObjectKind = 'table' | 'view' | 'matview' | 'function' | 'other';

export interface ObjectState {
  kind: ObjectKind;
  /** materialized views: whether it holds data */
  populated: boolean;
}

const RELKINDS: Record<string, ObjectKind> = { r: 'table', p: 'table', v: 'view', m: 'matview' };

export async function objectState(c: ClientBase, schema: string, object: string): Promise<ObjectState | undefined> {
  const rel = await c.query<{ relkind: string; relispopulated: boolean }>(
    `select c.relkind::text as relkind, c.relispopulated
       from pg_class as c inner join pg_namespace as n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relname = $2`,
    [schema, object],
  );
  const r = rel.rows[0];
  if (r) return { kind: RELKINDS[r.relkind] ?? 'other', populated: r.relispopulated };
  const fn = await c.query(
    `select 1 from pg_proc as p inner join pg_namespace as n on n.oid = p.pronamespace where n.nspname = $1 and p.proname = $2`,
    [schema, object],
  );
  return fn.rowCount ? { kind: 'function', populated: true } : undefined;
}

export function qualified(schema: string, object: string): string {
  return `${escapeIdentifier(schema)}.${escapeIdentifier(object)}`;
}

/** Drop a view, materialized view or function (every overload) and, by cascade, what depends on it. */
export async function dropObject(c: ClientBase, schema: string, object: string, kind: ObjectKind): Promise<void> {
  if (kind === 'view') await c.query(`drop view ${qualified(schema, object)} cascade`);
  else if (kind === 'matview') await c.query(`drop materialized view ${qualified(schema, object)} cascade`);
  else if (kind === 'function') {
    const { rows } = await c.query<{ signature: string }>(
      `select p.oid::regprocedure::text as signature
         from pg_proc as p inner join pg_namespace as n on n.oid = p.pronamespace
        where n.nspname = $1 and p.proname = $2`,
      [schema, object],
    );
    for (const r of rows) await c.query(`drop routine ${r.signature} cascade`);
  } else throw new Error(`cannot drop ${schema}.${object}: it is a ${kind}`);
}
