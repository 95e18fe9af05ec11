/**
 * Every published relation and every one of its columns carries a non-empty COMMENT ON (where psql \d+,
 * DBeaver, Metabase and the report read it), and the comments survive a changed-definition rebuild and a
 * full rebuild of core.
 */
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { sqlDir } from '../loader/paths.js';
import { runTransform } from '../loader/transform/index.js';
import { freshDatabase, type TestDatabase } from './support/db.js';
import { row, stageRows } from './support/stage.js';

/** the relations the issue names (besides all of schema features); the list is this test's own */
const NAMED = [
  'meta.load_summary', 'meta.transform_history', 'meta.transform_file_timings', 'meta.data_dictionary',
  'meta.loads', 'core.transactions', 'core.quarantine', 'staging.transactions', 'staging.load_rejects',
];
const FEATURES = ['features.customer_features', 'features.daily_sales', 'features.product_features', 'features.customer_cohorts'];

const temps: string[] = [];
afterAll(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

interface Described { relation: string; column: string | null; comment: string | null }

/** relation comments (column null) and column comments of schema features and the named relations, from the catalogs */
async function comments(db: TestDatabase): Promise<Described[]> {
  const { rows } = await db.pool.query<Described>(
    `with rels as (
       select c.oid, n.nspname || '.' || c.relname as relation
         from pg_class as c inner join pg_namespace as n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p', 'v', 'm') and (n.nspname = 'features' or n.nspname || '.' || c.relname = any($1::text[]))
     )
     select relation, null as column, obj_description(oid, 'pg_class') as comment from rels
     union all
     select rels.relation, a.attname::text, col_description(rels.oid, a.attnum)
       from rels inner join pg_attribute as a on a.attrelid = rels.oid and a.attnum > 0 and not a.attisdropped
     order by 1, 2 nulls first`,
    [NAMED],
  );
  return rows;
}

function expectAllCommented(all: Described[]): void {
  const relations = new Set(all.map((d) => d.relation));
  for (const name of [...NAMED, ...FEATURES]) expect(relations, `${name} exists`).toContain(name);
  const missing = all.filter((d) => !d.comment?.trim()).map((d) => (d.column ? `${d.relation}.${d.column}` : d.relation));
  expect(missing).toEqual([]);
  // each relation has its own comment and at least one column
  for (const name of relations) {
    expect(all.filter((d) => d.relation === name && d.column === null)).toHaveLength(1);
    expect(all.filter((d) => d.relation === name && d.column !== null).length).toBeGreaterThan(0);
  }
}

async function changedSqlDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'comments-sql-'));
  temps.push(dir);
  const out = join(dir, 'sql');
  await cp(sqlDir, out, { recursive: true });
  // every view's file changes (its sha256 with it): the runner drops the object (cascade) and runs the file again
  for (const f of await readdir(out)) {
    if (!/^\d+_(features|meta)\./.test(f)) continue;
    const path = join(out, f);
    await writeFile(path, `-- a changed definition (test)\n${await readFile(path, 'utf8')}`);
  }
  return out;
}

describe('column comments', () => {
  it('every column of every published relation has a comment, kept across changed definitions and full rebuilds', async () => {
    const db = await freshDatabase();
    await stageRows(db.pool, [row(), row({ invoice_no: 'C536379', quantity: '-1' }), row({ invoice_no: '536380', customer_id: '12583', invoice_date: '2011-01-04 10:00' })]);
    await runTransform(db);
    const before = await comments(db);
    expectAllCommented(before);
    // the data dictionary view shows the same words as the catalogs
    const { rows: dict } = await db.pool.query<{ relation: string; column: string; comment: string }>(
      `select schema_name || '.' || relation_name as relation, column_name as column, column_comment as comment from meta.data_dictionary`,
    );
    const fromCatalog = before.filter((d) => d.column !== null).map((d) => ({ relation: d.relation, column: d.column, comment: d.comment }));
    expect(dict.sort((a, b) => `${a.relation}.${a.column}`.localeCompare(`${b.relation}.${b.column}`))).toEqual(
      fromCatalog.sort((a, b) => `${a.relation}.${a.column}`.localeCompare(`${b.relation}.${b.column}`)),
    );

    const changed = await runTransform(db, { sqlDir: await changedSqlDir() });
    const recreated = changed.files.filter((f) => f.action === 'create').map((f) => f.file);
    for (const name of [...FEATURES, 'meta.load_summary', 'meta.transform_history', 'meta.transform_file_timings', 'meta.data_dictionary']) {
      expect(recreated.some((f) => f.endsWith(`_${name}.sql`)), `${name} re-created`).toBe(true);
    }
    expect(await comments(db)).toEqual(before);

    await runTransform(db, { full: true });
    expect(await comments(db)).toEqual(before);
  });
});
