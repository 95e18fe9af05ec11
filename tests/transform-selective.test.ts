/**
 * A changed step file rebuilds only what depends on it (issue 21): after a full transform of part of the
 * bundled data, a comment is appended to one step file at a time (in a copy of sql/, --sql-dir). A file of
 * 020-032 rebuilds the tables downstream of it from core and leaves every other table of core untouched
 * (the ctid and xmin of every row unchanged); a file of 001-017 (what needs every staged row again) still
 * rebuilds everything. Every published row then equals a full rebuild's. The tables a run rebuilds are
 * first damaged (rows deleted), so that equal published rows show they were really filled again. Last, a
 * change while a batch is pending: the batch goes in and the rebuild reads core after it; the published
 * rows equal a --full rebuild of the same loads.
 */
import { execFile } from 'node:child_process';
import { appendFile, cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, describe, expect, it } from 'vitest';

import { bundledDataDir, projectRoot, sqlDir } from '../loader/paths.js';
import { codeOnly, fileDeps, fromCoreSql, rebuildDecision, type DepFile } from '../loader/transform/deps.js';
import { planTransform, runTransform } from '../loader/transform/index.js';
import { freshDatabase, type TestDatabase } from './support/db.js';
import { PUBLISHED_QUERIES } from './support/published.js';

const run = promisify(execFile);
const loadCli = join(projectRoot, 'dist', 'loader', 'cli', 'load.js');
const transformCli = join(projectRoot, 'dist', 'loader', 'cli', 'transform.js');
const published = PUBLISHED_QUERIES;
// every table a step file fills
const tables = [
  'core.transactions', 'core.duplicates', 'core.quarantine', 'meta.transform_loads', 'core.invoices',
  'core.product_descriptions', 'core.customer_months', 'core.customers', 'core.products', 'core.days',
];
// what a change to each summary or entity file must rebuild (read off the files: the tables downstream of it)
const expectedRebuild: Record<string, string[]> = {
  '020_core.invoices.sql': ['core.invoices', 'core.customer_months', 'core.customers', 'core.days'],
  '021_pg_temp.transform_customer_products.sql': ['core.customers', 'core.products'],
  '022_pg_temp.transform_product_invoices.sql': ['core.products'],
  '023_pg_temp.transform_product_sale_dates.sql': ['core.products'],
  '024_core.product_descriptions.sql': ['core.product_descriptions', 'core.products'],
  '025_core.customer_months.sql': ['core.customer_months'],
  '030_core.customers.sql': ['core.customers'],
  '031_core.products.sql': ['core.products'],
  '032_core.days.sql': ['core.days'],
};
// files whose change needs every staged row again, run: a sample of 001-015 (the others are planned only: a full
// rebuild each), and 016 and 017 (they read the run's dedup of the staged rows)
const fullRebuild = ['010_pg_temp.transform_parsed.sql', '016_core.duplicates.sql', '017_meta.transform_loads.sql'];

const temps: string[] = [];
afterAll(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

async function load(db: TestDatabase, sources: string[]): Promise<void> {
  await run(process.execPath, [loadCli, '--quiet', '--jobs', '1', ...sources], { env: db.env, maxBuffer: 1 << 24 });
}

async function publishedRows(db: TestDatabase): Promise<string[][]> {
  const out: string[][] = [];
  for (const sql of published) out.push((await db.pool.query(sql)).rows.map((r) => JSON.stringify(r)).sort());
  return out;
}

function expectSame(x: string[][], y: string[][], when: string): void {
  published.forEach((sql, i) => {
    const [a, b] = [x[i]!, y[i]!];
    const inB = new Set(b);
    const inA = new Set(a);
    expect(a.filter((r) => !inB.has(r)), `${when}: ${sql}: rows only after the change`).toEqual([]);
    expect(b.filter((r) => !inA.has(r)), `${when}: ${sql}: rows only in the full rebuild`).toEqual([]);
    expect(a.length, `${when}: ${sql}`).toBe(b.length);
  });
}

/** each table's rows by physical place and writing transaction: equal only if no row was written or moved */
async function untouched(db: TestDatabase): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of tables) {
    const { rows } = await db.pool.query(`select count(*)::int as n, md5(coalesce(string_agg(ctid::text || ':' || xmin::text, ',' order by ctid), '')) as h from ${t}`);
    out[t] = `${rows[0].n} ${rows[0].h}`;
  }
  return out;
}

describe('transform: a changed step file rebuilds only what depends on it', () => {
  it('each step file changed in turn: its downstream rebuilt (or all, for 001-017), the rest untouched, every published row as --full', async () => {
    const db = await freshDatabase();
    // every 12th bundled day (26 days across the whole year: every month, cohort and product kind), less the
    // last two, which come as a batch at the end
    const days = (await readdir(bundledDataDir)).filter((f) => f.endsWith('.csv.gz')).sort().filter((_, i) => i % 12 === 0).map((f) => join(bundledDataDir, f));
    const held = days.splice(-2);
    await load(db, days);
    expect(await runTransform(db)).toMatchObject({ full: true, loads: days.length });
    const reference = await publishedRows(db);

    const work = await mkdtemp(join(tmpdir(), 'transform-selective-'));
    temps.push(work);
    const dir = join(work, 'sql');
    await cp(sqlDir, dir, { recursive: true });
    // each change is appended to the copy and stays: every run sees one more changed file than the last
    const change = (file: string) => appendFile(join(dir, file), `\n-- changed (test): ${file}\n`);

    for (const [file, expected] of Object.entries(expectedRebuild)) {
      const before = await untouched(db);
      await change(file);
      // damage what must be rebuilt: only a real rebuild gives the published rows back
      for (const t of expected) await db.pool.query(`delete from ${t} where ctid in (select ctid from ${t} order by ctid limit 7)`);
      const damaged = await untouched(db);
      const plan = await planTransform(db, { sqlDir: dir });
      const r = await runTransform(db, { sqlDir: dir });
      expect(r.full, file).toBe(false);
      expect([...(r.rebuild?.tables ?? [])].sort(), file).toEqual([...expected].sort());
      expect(plan).toMatchObject({ full: false, rebuild: r.rebuild });
      expect(r.files.find((f) => f.file === `sql/${file}`)?.rebuild, file).toBe(true);
      const after = await untouched(db);
      for (const t of tables) {
        if (expected.includes(t)) expect(after[t], `${file}: ${t} rebuilt`).not.toBe(damaged[t]);
        else expect(after[t], `${file}: ${t} untouched`).toBe(before[t]);
      }
      expectSame(await publishedRows(db), reference, file);
      const { rows } = await db.pool.query('select is_full, full_reason, rebuild_reason, rebuilt from meta.transform_runs where run_id = $1', [r.runId]);
      expect(rows[0]).toEqual({ is_full: false, full_reason: null, rebuild_reason: r.rebuild!.reason, rebuilt: r.rebuild!.tables });
      expect(r.rebuild!.reason).toContain(`sql/${file} changed`);
    }

    // a step file of 001-017: the plan says full, and why; a sample of them run
    const steps = (await readdir(sqlDir)).filter((f) => /^0[01]\d_/.test(f)).sort();
    for (const file of steps) {
      await change(file);
      const plan = await planTransform(db, { sqlDir: dir });
      expect(plan, file).toMatchObject({ full: true, rebuild: undefined });
      expect(plan.fullReason, file).toMatch(new RegExp(`^sql/\\d{3}_.* changed: .*staging\\.transactions`));
      if (fullRebuild.includes(file)) {
        const r = await runTransform(db, { sqlDir: dir });
        expect(r.full, file).toBe(true);
        expectSame(await publishedRows(db), reference, file);
      }
    }
    await runTransform(db, { sqlDir: dir }); // the rest of 001-017 applied: what follows changes one file at a time again

    // a view's file: re-created, nothing rebuilt
    const tablesBefore = await untouched(db);
    await change('120_features.product_features.sql');
    const view = await runTransform(db, { sqlDir: dir });
    expect(view).toMatchObject({ full: false, rebuild: undefined });
    expect(view.files.find((f) => f.file === 'sql/120_features.product_features.sql')?.action).toBe('create');
    expect(await untouched(db)).toEqual(tablesBefore);
    expectSame(await publishedRows(db), reference, 'a view changed');

    // --dry-run prints the plan and changes nothing
    await change('031_core.products.sql');
    const runs = (await db.pool.query('select count(*)::int as n from meta.transform_runs')).rows[0].n;
    const dry = await run(process.execPath, [transformCli, '--dry-run', '--sql-dir', dir], { env: db.env });
    expect(dry.stdout).toContain('plan: incremental, and a rebuild of part of core: sql/031_core.products.sql changed');
    expect(dry.stdout).toMatch(/rebuilt \(emptied, filled again from core\): core\.products\n/);
    expect((await db.pool.query('select count(*)::int as n from meta.transform_runs')).rows[0].n).toBe(runs);
    expect(await untouched(db)).toEqual(tablesBefore);

    // with a batch pending: the batch goes in incrementally, the rebuild reads core after it
    await change('025_core.customer_months.sql');
    await load(db, held);
    const both = await runTransform(db, { sqlDir: dir });
    expect(both).toMatchObject({ full: false, loads: 2 });
    expect([...(both.rebuild?.tables ?? [])].sort()).toEqual(['core.customer_months', 'core.products']);
    const selective = await publishedRows(db);
    expect(await runTransform(db, { full: true, sqlDir: dir })).toMatchObject({ full: true, loads: days.length + 2 });
    expectSame(selective, await publishedRows(db), 'a batch and two changed files');
  }, 600_000);
});

describe('dependencies derived from the SQL text', () => {
  it('reads the qualified names outside comments and strings; writes the named object, temp tables and DML targets', () => {
    const text = `-- reads core.ignored in a comment
create temp table transform_x on commit drop as
select 'core.not_a_table' as s, a.* from core.a as a join pg_temp.transform_y as y using (k) /* core.nor_this */;
merge into core.b as b using pg_temp.transform_x as x on true when matched then update set n = 1;
create function features.f() returns int language sql as $$ select count(*)::int from core.c $$;`;
    const d = fileDeps({ schema: 'core', object: 'b', text });
    expect([...d.reads].sort()).toEqual(['core.a', 'core.b', 'core.c', 'features.f', 'pg_temp.transform_x', 'pg_temp.transform_y']);
    expect([...d.writes].sort()).toEqual(['core.b', 'features.f', 'pg_temp.transform_x']);
    expect(codeOnly("select E'it''s \\' core.z' -- core.q\n")).not.toMatch(/core/);
  });

  it('a changed file rebuilds its downstream; a temp input is made again; staging makes it full', () => {
    const f = (file: string, text: string, isStep = true): DepFile => {
      const [, schema, object] = /^\d+_(\w+)\.(\w+)\.sql$/.exec(file)!;
      return { file, schema: schema!, object: object!, text, isStep };
    };
    const files = [
      f('001_pg_temp.transform_staged.sql', 'create temp table transform_staged as select * from staging.transactions'),
      f('015_core.transactions.sql', 'insert into core.transactions select * from pg_temp.transform_staged; create temp view transform_changes as select 1'),
      f('020_core.s.sql', 'merge into core.s using pg_temp.transform_changes as c on true'),
      f('021_pg_temp.transform_t.sql', 'create temp table transform_t as select * from pg_temp.transform_changes'),
      f('030_core.e.sql', 'merge into core.e using (select * from core.s join pg_temp.transform_t using (k)) as x on true'),
      f('031_core.u.sql', 'merge into core.u using pg_temp.transform_changes as c on true'),
      f('100_features.v.sql', 'create materialized view features.v as select * from core.e', false),
    ];
    const stored = (changed: string) => new Map(files.map((x) => [x.file, x.file === changed ? 'old' : 'new']));
    const decide = (changed: string) => rebuildDecision(files, stored(changed), () => 'new');
    expect(decide('020_core.s.sql')).toMatchObject({ kind: 'selective', plan: { downstream: ['020_core.s.sql', '030_core.e.sql', '100_features.v.sql'], rerun: ['021_pg_temp.transform_t.sql'], tables: ['core.s', 'core.e'], fromCore: ['pg_temp.transform_changes'] } });
    expect(decide('031_core.u.sql')).toMatchObject({ kind: 'selective', plan: { downstream: ['031_core.u.sql'], rerun: [], tables: ['core.u'] } });
    expect(decide('015_core.transactions.sql')).toMatchObject({ kind: 'full' });
    expect(decide('001_pg_temp.transform_staged.sql')).toEqual({ kind: 'full', reason: '001_pg_temp.transform_staged.sql changed: it reads staging.transactions (a rebuild from every staged row)' });
    expect(decide('100_features.v.sql')).toEqual({ kind: 'none' });
    // a temporary table named without pg_temp is read all the same (a CTE or an alias of that name is not)
    const bare = files.map((x) => (x.file === '031_core.u.sql' ? { ...x, text: 'merge into core.u using (select * from transform_t) as c on true' } : x));
    const cte = files.map((x) => (x.file === '031_core.u.sql' ? { ...x, text: 'with transform_t as (select 1) merge into core.u as transform_t using pg_temp.transform_changes as c on transform_t.k = 1' } : x));
    expect(rebuildDecision(bare, stored('021_pg_temp.transform_t.sql'), () => 'new')).toMatchObject({ plan: { tables: ['core.e', 'core.u'] } });
    expect(rebuildDecision(cte, stored('021_pg_temp.transform_t.sql'), () => 'new')).toMatchObject({ plan: { tables: ['core.e'] } });
  });

  it('makes pg_temp.transform_changes from core with the columns of the run\'s own (a view, or on Citus a table)', () => {
    const columns = [{ name: 'sign', type: 'integer' }, { name: 'load_id', type: 'bigint' }, { name: 'line_kind', type: 'text' }];
    const source = new Set(['load_id', 'line_no', 'line_kind']);
    expect(fromCoreSql('pg_temp.transform_changes', columns, source, 'view')).toBe(
      'create temp view transform_changes as\nselect 1::integer as sign, source.load_id, source.line_kind\nfrom core.transactions as source',
    );
    expect(fromCoreSql('pg_temp.transform_changes', columns, source, 'table')).toMatch(/^create temp table transform_changes on commit drop as\n/);
    expect(() => fromCoreSql('pg_temp.transform_changes', [...columns, { name: 'extra', type: 'text' }], source, 'view')).toThrow(/no column extra/);
  });
});
