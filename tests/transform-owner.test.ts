/**
 * One owner (issue 20): every object the pipeline maintains belongs to `transformer`, whichever login runs
 * migrate or transform (migrations/1700000009000_one-owner, loader/transform/owner.ts). The service login is
 * the one the compose stack makes (docker/service-roles.sh), after `migrate` as the superuser.
 */
import { readdirSync } from 'node:fs';

import pg from 'pg';
import { describe, expect, it } from 'vitest';

import { migrate } from '../loader/migrate.js';
import { migrationsDir } from '../loader/paths.js';
import { runTransform } from '../loader/transform/index.js';
import { actAsOwner } from '../loader/transform/owner.js';
import { freshDatabase, type TestDatabase } from './support/db.js';
import { createServiceLogins, poolAs } from './support/services.js';
import { row, stageRows } from './support/stage.js';

/** every maintained object (core's tables, features' relations and functions, the transform's meta objects) with its owner */
async function owners(db: TestDatabase): Promise<Map<string, string>> {
  const { rows } = await db.pool.query<{ name: string; owner: string }>(
    `select format('%I.%I', n.nspname, c.relname) as name, pg_get_userbyid(c.relowner) as owner
       from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p', 'v', 'm')
        and (n.nspname in ('core', 'features') or (n.nspname = 'meta' and c.relname <> 'loads'))
     union all
     select p.oid::regprocedure::text, pg_get_userbyid(p.proowner)
       from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
      where n.nspname = 'features'`,
  );
  return new Map(rows.map((r) => [r.name, r.owner]));
}

async function indexOids(db: TestDatabase, table: string): Promise<number[]> {
  const { rows } = await db.pool.query<{ oid: number }>('select indexrelid::int as oid from pg_index where indrelid = $1::regclass order by 1', [table]);
  return rows.map((r) => r.oid);
}

const sales = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => row({ invoice_no: `${prefix}${String(i).padStart(5, '0')}`, customer_id: `${12000 + (i % 7)}.0` }));

describe('one owner of what the pipeline maintains', () => {
  it('a full rebuild as the service login drops and rebuilds core\'s indexes (the bulk path), as the owner', async () => {
    const db = await freshDatabase();
    const { transformer } = createServiceLogins(db);
    await stageRows(db.pool, sales(30, '5'));
    const svc = poolAs(db, transformer);
    try {
      await runTransform({ pool: svc });
      const before = await indexOids(db, 'core.transactions');
      expect(before.length).toBeGreaterThan(1);
      const lines: string[] = [];
      const r = await runTransform({ pool: svc }, { full: true, log: (l) => lines.push(l) });
      expect(r).toMatchObject({ full: true, rowsClean: 30 });
      const after = await indexOids(db, 'core.transactions');
      // the same number of indexes, every one of them built again (new oids): dropped before the insert
      expect(after.length).toBe(before.length);
      expect(after.filter((oid) => before.includes(oid))).toEqual([]);
      expect(lines.filter((l) => l.startsWith('the transform runs as'))).toEqual([]);
    } finally {
      await svc.end();
    }
    for (const [name, owner] of await owners(db)) expect(owner, name).toBe('transformer');
  });

  it('the superuser, then the service login, then the superuser: each run succeeds and every object keeps its one owner', async () => {
    // load and transform as the superuser on a database whose first transform is not migrate's (the case that
    // used to leave feature views the service login could not refresh)
    const db = await freshDatabase();
    await db.pool.query('truncate meta.transform_runs, meta.transform_files');
    for (const v of ['customer_features', 'daily_sales', 'product_features', 'customer_cohorts']) await db.pool.query(`drop materialized view if exists features.${v} cascade`);
    const { transformer } = createServiceLogins(db);
    await stageRows(db.pool, sales(20, '6'));
    const svc = poolAs(db, transformer);
    try {
      expect(await runTransform(db)).toMatchObject({ full: true, loads: 1 });
      for (const [name, owner] of await owners(db)) expect(owner, `after the superuser: ${name}`).toBe('transformer');
      await stageRows(db.pool, sales(5, '7'));
      expect(await runTransform({ pool: svc })).toMatchObject({ full: false, loads: 1 });
      expect(await runTransform({ pool: svc }, { full: true })).toMatchObject({ full: true, loads: 2, rowsClean: 25 });
      await stageRows(db.pool, sales(3, '8'));
      expect(await runTransform(db)).toMatchObject({ full: false, loads: 1 });
      expect(await runTransform(db, { full: true })).toMatchObject({ full: true, loads: 3, rowsClean: 28 });
    } finally {
      await svc.end();
    }
    for (const [name, owner] of await owners(db)) expect(owner, name).toBe('transformer');
    const { rows } = await db.pool.query<{ n: number }>('select count(*)::int as n from features.customer_features');
    expect(rows[0]!.n).toBe(7);
  });

  it('a database deployed before the one-owner migration gets its objects back to transformer from it', async () => {
    const db = await freshDatabase();
    await stageRows(db.pool, sales(10, '4'));
    await runTransform(db);
    // back to before the one-owner migration (those after it change nothing this test looks at)
    const migrations = readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort();
    await migrate({ connectionString: db.url }, 'down', migrations.length - migrations.indexOf('1700000009000_one-owner.sql'));
    // as the superuser made them before this migration: core and the feature views its own
    const { rows: me } = await db.pool.query<{ u: string }>('select current_user as u');
    for (const v of ['customer_features', 'daily_sales']) await db.pool.query(`alter materialized view features.${v} owner to ${me[0]!.u}`);
    const before = await owners(db);
    expect(before.get('core.transactions')).toBe(me[0]!.u);
    expect(before.get('features.customer_features')).toBe(me[0]!.u);
    await migrate({ connectionString: db.url }, 'up');
    for (const [name, owner] of await owners(db)) expect(owner, name).toBe('transformer');
    const { transformer } = createServiceLogins(db);
    const svc = poolAs(db, transformer);
    try {
      await stageRows(db.pool, sales(4, '3'));
      expect(await runTransform({ pool: svc })).toMatchObject({ full: false, loads: 1 });
    } finally {
      await svc.end();
    }
  });

  it('a login that may not act as transformer runs as itself and is told once why, and the command that fixes it', async () => {
    const db = await freshDatabase();
    const login = { user: `plain_${db.name}`, password: `x${db.name}` };
    await db.pool.query(`create role ${login.user} login password '${login.password}'`);
    const pool = poolAs(db, login);
    try {
      const c = await pool.connect();
      try {
        await c.query('begin');
        const first = await actAsOwner(c);
        expect(first.role).toBe(login.user);
        expect(first.note).toContain(`may not act as transformer`);
        expect(first.note).toContain(`grant transformer to ${login.user}`);
        expect((await actAsOwner(c)).note).toBeUndefined(); // once
        expect((await c.query('select current_user as u')).rows[0].u).toBe(login.user);
        await c.query('rollback');
      } finally {
        c.release();
      }
    } finally {
      await pool.end();
      await db.pool.query(`drop role ${login.user}`);
    }
  });
});
