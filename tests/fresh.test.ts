/**
 * A fresh stack serves empty views: right after `migrate` (run as the compose migrate service runs it, as
 * the superuser), every features relation and meta.load_summary exists, is readable by the analyst login
 * and returns no rows; they belong to `transformer`, so the transform login can later fill them, refresh
 * them and recreate them on a changed definition. The first transform with data is still a full one.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

import { projectRoot, sqlDir } from '../loader/paths.js';
import { freshDatabase } from './support/db.js';
import { createServiceLogins, libpqEnv, type Login } from './support/services.js';

const db = await freshDatabase({ migrated: false });
const work = mkdtempSync(join(tmpdir(), 'fresh-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cli = (name: string, args: string[], env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, [join(projectRoot, 'dist', 'loader', 'cli', `${name}.js`), ...args], { env, encoding: 'utf8' });

const migrate = cli('migrate', [], libpqEnv(db.url));
const logins = createServiceLogins(db);

async function asLogin<T>(login: Login, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const env = libpqEnv(db.url, login);
  const c = new pg.Client({ host: env.PGHOST, port: Number(env.PGPORT), database: env.PGDATABASE, user: env.PGUSER, password: env.PGPASSWORD });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The objects the sql/ files define, by their file names (`NNN_schema.object.sql`). */
// the objects sql/ defines or fills (pg_temp.… are the run's temporary tables: gone at its commit)
const defined = readdirSync(sqlDir)
  .filter((f) => f.endsWith('.sql'))
  .map((f) => /^\d+_([a-z_]+)\.([a-z_]+)\.sql$/.exec(f)!.slice(1, 3) as [string, string])
  .filter(([schema]) => schema !== 'pg_temp');

async function relations(): Promise<{ name: string; kind: string; owner: string; populated: boolean }[]> {
  const { rows } = await db.pool.query<{ name: string; kind: string; owner: string; populated: boolean }>(
    `select format('%I.%I', n.nspname, c.relname) as name, c.relkind::text as kind, pg_get_userbyid(c.relowner) as owner, c.relispopulated as populated
       from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
      where (n.nspname = 'features' and c.relkind in ('r', 'v', 'm', 'p')) or (n.nspname = 'meta' and c.relname = 'load_summary')
      order by 1`,
  );
  return rows;
}

describe('right after migrate', () => {
  it('migrate succeeds, says it created the derived objects, and writes nothing to stderr', () => {
    expect(migrate.stderr).toBe('');
    expect(migrate.status).toBe(0);
    expect(migrate.stdout).toMatch(/^applied: .*\nderived objects: created as transformer \(empty until the first load is transformed; transform 1\)\n$/);
  });

  it('every object of sql/ exists; every features relation and meta.load_summary is populated, owned by transformer, readable by analyst and empty', async () => {
    const rels = await relations();
    for (const [schema, object] of defined) {
      const { rows } = await db.pool.query(
        `select 1 from pg_class as c join pg_namespace as n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2
         union all select 1 from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace where n.nspname = $1 and p.proname = $2`,
        [schema, object],
      );
      expect(rows.length, `${schema}.${object}`).toBeGreaterThan(0);
    }
    expect(rels.map((r) => r.name)).toEqual(expect.arrayContaining(['features.customer_cohorts', 'features.customer_features', 'features.daily_sales', 'features.product_features', 'meta.load_summary']));
    for (const r of rels) {
      expect(r.owner, r.name).toBe('transformer');
      expect(r.populated, r.name).toBe(true);
    }
    await asLogin(logins.analyst, async (c) => {
      for (const r of rels) expect((await c.query(`select * from ${r.name}`)).rows, r.name).toEqual([]);
    });
  });

  it('records that run as an incremental transform of no loads, and a second migrate does not run it again', async () => {
    const { rows } = await db.pool.query('select run_id::int, status, is_full, loads_processed from meta.transform_runs order by run_id');
    expect(rows).toEqual([{ run_id: 1, status: 'complete', is_full: false, loads_processed: 0 }]);
    const again = cli('migrate', [], libpqEnv(db.url));
    expect(again.status).toBe(0);
    expect(again.stdout).toBe('migrations: up to date\n');
    expect((await db.pool.query('select 1 from meta.transform_runs')).rowCount).toBe(1);
  });
});

describe('migrate on a database that was loaded but never transformed', () => {
  it('creates nothing and says that the first transform will: migrate never transforms data', async () => {
    const loaded = await freshDatabase(); // migrated without the command: no derived objects
    const file = join(work, 'early.csv');
    writeFileSync(file, 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n1,P,x,1,2011-01-01 10:00:00,1.00,1,UK\n');
    expect(cli('load', [file], loaded.env).status).toBe(0);
    const run = cli('migrate', [], libpqEnv(loaded.url));
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('migrations: up to date\nderived objects: not created here: 1 complete load waits for the first transform, which creates them (npm run transform)\n');
    expect((await loaded.pool.query('select 1 from meta.transform_runs')).rowCount).toBe(0);
  });
});

describe('npm run status on the fresh stack', () => {
  it('runs as the transform login (as `docker compose exec transform` does): healthy, empty views counted; refused to the analyst login', () => {
    const run = cli('status', ['--json'], libpqEnv(db.url, logins.transformer));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as { healthy: boolean; views: { name: string; rows: number | null }[]; lastRun: { loads: number } };
    expect(report.healthy).toBe(true);
    expect(report.lastRun.loads).toBe(0);
    expect(report.views.length).toBeGreaterThanOrEqual(4);
    for (const v of report.views) expect(v.rows, v.name).toBe(0);
    const analyst = cli('status', [], libpqEnv(db.url, logins.analyst));
    expect(analyst.status).toBe(2);
    expect(analyst.stderr).toMatch(/^status: permission denied .*run it as the transform's login or the owner\n$/);
  });
});

describe('then the services', () => {
  it('the first transform of data (as the transform login) is full, fills the views, and can recreate a changed one', async () => {
    const file = join(work, 'day.csv');
    writeFileSync(file, [
      'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
      '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom',
      '536366,22633,HAND WARMER UNION JACK,6,2010-12-02 08:28:00,1.85,17851.0,United Kingdom',
    ].join('\n') + '\n');
    const load = cli('load', [file], libpqEnv(db.url, logins.loader));
    expect(load.status, load.stderr).toBe(0);
    const transform = cli('transform', [], libpqEnv(db.url, logins.transformer));
    expect(transform.status, transform.stderr).toBe(0);
    expect(transform.stdout).toMatch(/complete, full \(first transform \(core is empty\)\), 1 load: 2 staged rows → 2 clean/);
    await asLogin(logins.analyst, async (c) => {
      expect((await c.query('select customer_id from features.customer_features order by 1')).rows).toEqual([{ customer_id: 17850 }, { customer_id: 17851 }]);
      expect((await c.query('select day::text from features.daily_sales order by 1')).rows).toEqual([{ day: '2010-12-01' }, { day: '2010-12-02' }]);
      expect((await c.query('select rows_clean::int from meta.load_summary')).rows).toEqual([{ rows_clean: 2 }]);
    });

    // a changed definition: the transform login drops and recreates an object migrate made
    const changed = join(work, 'sql');
    cpSync(sqlDir, changed, { recursive: true });
    const target = readdirSync(changed).find((f) => f.includes('features.daily_sales'))!;
    writeFileSync(join(changed, target), readFileSync(join(changed, target), 'utf8') + '\n-- changed\n');
    const redo = cli('transform', ['--sql-dir', changed], libpqEnv(db.url, logins.transformer));
    expect(redo.stderr).toMatch(new RegExp(`${target.replace('.', '\\.')}: create`));
    expect(redo.status, redo.stderr).toBe(0);
    const rels = await relations();
    expect(new Set(rels.map((r) => r.owner))).toEqual(new Set(['transformer']));
  });
});
