/**
 * Roles on a real PostgreSQL: the NOLOGIN roles of the migrations (loader, transformer, analyst) and the
 * per-service login roles the compose stack makes with docker/service-roles.sh.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';

import { projectRoot } from '../loader/paths.js';
import { freshDatabase, type TestDatabase } from './support/db.js';
import { createServiceLogins, libpqEnv, loginVariables, type Login, type ServiceLogins } from './support/services.js';

const db: TestDatabase = await freshDatabase();
const logins: ServiceLogins = createServiceLogins(db);
const script = join(projectRoot, 'docker', 'service-roles.sh');

/** Run `sql` as `role` (set role, inside a transaction that is rolled back); the error code, or 'ok'. */
async function as(role: string, sql: string): Promise<string> {
  const c = await db.pool.connect();
  try {
    await c.query('begin');
    await c.query(`set local role ${role}`);
    await c.query(sql);
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  } finally {
    await c.query('rollback').catch(() => undefined);
    c.release();
  }
}

async function connectAs(login: Login): Promise<pg.Client> {
  const env = libpqEnv(db.url, login);
  const client = new pg.Client({ host: env.PGHOST, port: Number(env.PGPORT), database: env.PGDATABASE, user: env.PGUSER, password: env.PGPASSWORD });
  await client.connect();
  return client;
}

/** The relations of schema features that readers read (tables, views, materialized views). */
async function featureRelations(): Promise<string[]> {
  const { rows } = await db.pool.query<{ name: string }>(
    `select format('%I.%I', n.nspname, c.relname) as name from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
      where n.nspname = 'features' and c.relkind in ('r', 'v', 'm', 'p') order by 1`,
  );
  return rows.map((r) => r.name);
}

const denied = '42501';

beforeAll(() => {
  // the real pipeline, each step as its compose login: a small file loaded as the loader, then the
  // transform (which creates the features objects) as the transformer
  const dir = mkdtempSync(join(tmpdir(), 'roles-'));
  const file = join(dir, 'day.csv');
  writeFileSync(file, [
    'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
    '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom',
    '536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom',
  ].join('\n') + '\n');
  try {
    for (const [cli, login, args] of [['load', logins.loader, [file]], ['transform', logins.transformer, []]] as const) {
      const run = spawnSync(process.execPath, [join(projectRoot, 'dist', 'loader', 'cli', `${cli}.js`), ...args], { env: libpqEnv(db.url, login), encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`${cli} as ${login.user} exited ${run.status}: ${run.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('analyst', () => {
  it('reads every relation of features, and meta.load_summary', async () => {
    const relations = await featureRelations();
    expect(relations).toEqual(expect.arrayContaining(['features.customer_cohorts', 'features.customer_features', 'features.daily_sales', 'features.product_features']));
    for (const rel of [...relations, 'meta.load_summary']) expect(await as('analyst', `select * from ${rel} limit 1`), rel).toBe('ok');
    const c = await db.pool.connect();
    try {
      await c.query('begin');
      await c.query('set local role analyst');
      const { rows } = await c.query<{ customer_id: number; frequency: string }>('select customer_id, frequency::text from features.customer_features');
      expect(rows).toEqual([{ customer_id: 17850, frequency: '2' }]);
    } finally {
      await c.query('rollback');
      c.release();
    }
  });

  it('is refused staging, core and the ledger', async () => {
    const meta = await db.pool.query<{ name: string }>(`select format('meta.%I', table_name) as name from information_schema.tables where table_schema = 'meta' and table_type = 'BASE TABLE'`);
    expect(meta.rows.length).toBeGreaterThan(1);
    for (const rel of ['staging.transactions', 'staging.load_rejects', 'core.transactions', 'core.quarantine', ...meta.rows.map((r) => r.name)]) {
      expect(await as('analyst', `select * from ${rel} limit 1`), rel).toBe(denied);
    }
  });

  it('is refused any write: rows, refreshes, new objects', async () => {
    const writes = [
      `insert into staging.transactions (load_id, line_no) values (1, 2)`,
      `delete from core.transactions`,
      `truncate core.quarantine`,
      `update meta.loads set source = 'x'`,
      `refresh materialized view features.customer_features`,
      `drop materialized view features.daily_sales`,
      `create table features.mine (x int)`,
      `create view features.mine as select 1 as x`,
      `create table core.mine (x int)`,
      `create table public.mine (x int)`,
      `create schema mine`,
    ];
    for (const sql of writes) expect(await as('analyst', sql), sql).toBe(denied);
  });

  it('logs in as the compose analyst login with the same rights', async () => {
    const c = await connectAs(logins.analyst);
    try {
      const { rows } = await c.query<{ n: number }>('select count(*)::int as n from features.daily_sales');
      expect(rows[0]!.n).toBe(1);
      await expect(c.query('select 1 from staging.transactions limit 1')).rejects.toMatchObject({ code: denied });
      await expect(c.query('select 1 from core.transactions limit 1')).rejects.toMatchObject({ code: denied });
      await expect(c.query('create table features.mine (x int)')).rejects.toMatchObject({ code: denied });
    } finally {
      await c.end();
    }
  });
});

describe('loader and transformer', () => {
  it('loader writes staging and the ledger only', async () => {
    expect(await as('loader', `insert into meta.loads (source, sha256) values ('b.csv', repeat('b', 64))`)).toBe('ok');
    expect(await as('loader', `insert into staging.transactions (load_id, line_no) values (1, 2)`)).toBe('ok');
    for (const sql of ['select 1 from core.transactions', 'insert into core.quarantine (load_id, line_no, reason) values (1, 2, $$bad_quantity$$)', 'select 1 from features.customer_features', 'create table core.mine (x int)']) {
      expect(await as('loader', sql), sql).toBe(denied);
    }
  });

  it('transformer reads staging and the ledger but never writes them', async () => {
    expect(await as('transformer', 'select 1 from staging.transactions, meta.loads limit 1')).toBe('ok');
    expect(await as('transformer', 'insert into staging.transactions (load_id, line_no) values (1, 2)')).toBe(denied);
    expect(await as('transformer', `update meta.loads set source = 'x'`)).toBe(denied);
  });
});

describe('transformer statistics', () => {
  it('the transform login may ANALYZE what it writes (it owns it) and, on PostgreSQL 17+ (MAINTAIN), what it reads; on 15 and 16 the loader\'s tables only their owner can', async () => {
    const c = await connectAs(logins.transformer);
    const notices: string[] = [];
    c.on('notice', (n) => notices.push(n.message ?? ''));
    try {
      const version = Number((await c.query<{ v: string }>(`select current_setting('server_version_num') as v`)).rows[0]!.v);
      for (const table of ['staging.transactions', 'core.transactions', 'meta.loads', 'meta.transform_loads']) await c.query(`analyze ${table}`);
      if (version >= 170000) expect(notices).toEqual([]);
      // core and the transform's bookkeeping belong to transformer (migrations/1700000009000_one-owner)
      else expect(notices.filter((n) => /skipping/.test(n)).map((n) => /"(\w+)"/.exec(n)?.[1]).sort()).toEqual(['loads', 'transactions']);
    } finally {
      await c.end();
    }
  });
});

describe('docker/service-roles.sh', () => {
  it('makes one plain login per service, member of its role; loader and transform sessions act as that role', async () => {
    expect(logins.output).toContain('service roles ready');
    const { rows } = await db.pool.query<{ rolname: string; rolcanlogin: boolean; rolsuper: boolean; rolcreaterole: boolean; member_of: string[] }>(
      `select r.rolname, r.rolcanlogin, r.rolsuper, r.rolcreaterole,
              array(select g.rolname from pg_auth_members as m join pg_roles as g on g.oid = m.roleid where m.member = r.oid order by 1)::text[] as member_of
         from pg_roles as r where r.rolname = any($1) order by r.rolname`,
      [[logins.loader.user, logins.transformer.user, logins.analyst.user]],
    );
    const byUser = Object.fromEntries(rows.map((r) => [r.rolname, r]));
    for (const [login, group] of [[logins.loader, 'loader'], [logins.transformer, 'transformer'], [logins.analyst, 'analyst']] as const) {
      expect(byUser[login.user]).toMatchObject({ rolcanlogin: true, rolsuper: false, rolcreaterole: false, member_of: [group] });
    }
    for (const [login, acting] of [[logins.loader, 'loader'], [logins.transformer, 'transformer'], [logins.analyst, logins.analyst.user]] as const) {
      const c = await connectAs(login);
      try {
        expect((await c.query<{ u: string }>('select current_user as u')).rows[0]!.u).toBe(acting);
      } finally {
        await c.end();
      }
    }
  });

  it('is idempotent and takes changed passwords: the old one stops working', async () => {
    const changed = { ...logins.loader, password: 'changed-' + logins.loader.password };
    const vars = {
      LOADER_DB_USER: logins.loader.user, LOADER_DB_PASSWORD: changed.password,
      TRANSFORM_DB_USER: logins.transformer.user, TRANSFORM_DB_PASSWORD: logins.transformer.password,
      ANALYST_DB_USER: logins.analyst.user, ANALYST_DB_PASSWORD: logins.analyst.password,
    };
    const run = spawnSync('sh', [script], { env: libpqEnv(db.url, undefined, vars), encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    await (await connectAs(changed)).end();
    await expect(connectAs(logins.loader)).rejects.toMatchObject({ code: '28P01' });
    logins.loader.password = changed.password;
  });

  it('refuses a missing variable, a group role or the superuser as a login, and then changes nothing', async () => {
    const { vars } = loginVariables();
    const missing = spawnSync('sh', [script], { env: libpqEnv(db.url, undefined, { ...vars, ANALYST_DB_PASSWORD: '' }), encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('ANALYST_DB_PASSWORD is not set');
    const superuser = decodeURIComponent(new URL(db.url).username);
    for (const bad of ['loader', superuser]) {
      const run = spawnSync('sh', [script], { env: libpqEnv(db.url, undefined, { ...vars, TRANSFORM_DB_USER: bad }), encoding: 'utf8' });
      expect(run.status, bad).not.toBe(0);
      expect(run.stderr).toContain(`${bad} cannot be a service login`);
    }
    const { rows } = await db.pool.query('select 1 from pg_roles where rolname = any($1)', [[vars.LOADER_DB_USER, vars.ANALYST_DB_USER]]);
    expect(rows).toEqual([]);
    const su = await db.pool.query<{ rolsuper: boolean }>('select rolsuper from pg_roles where rolname = $1', [superuser]);
    expect(su.rows[0]!.rolsuper).toBe(true);
  });
});
