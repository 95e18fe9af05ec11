import { readdir } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { migrate } from '../loader/migrate.js';
import { migrationsDir } from '../loader/paths.js';
import { freshDatabase } from './support/db.js';

const contractTables = ['core.quarantine', 'core.transactions', 'meta.loads', 'staging.load_rejects', 'staging.transactions'];

async function tables(db: Awaited<ReturnType<typeof freshDatabase>>): Promise<string[]> {
  const { rows } = await db.pool.query<{ name: string }>(
    `select table_schema || '.' || table_name as name from information_schema.tables
      where table_schema in ('staging', 'core', 'features', 'meta') order by 1`,
  );
  return rows.map((r) => r.name);
}

describe('migrations', () => {
  it('go up, all the way down, and up again on a real server', async () => {
    const db = await freshDatabase({ migrated: false });
    const config = { connectionString: db.url };
    const applied = await migrate(config, 'up');
    expect(applied.length).toBeGreaterThan(0);
    expect(await tables(db)).toEqual(expect.arrayContaining(contractTables));

    const rolledBack = await migrate(config, 'down', applied.length);
    expect(rolledBack).toEqual([...applied].reverse());
    expect(await tables(db)).toEqual([]);

    expect(await migrate(config, 'up')).toEqual(applied);
    expect(await tables(db)).toEqual(expect.arrayContaining(contractTables));
    expect(await migrate(config, 'up')).toEqual([]);
  });

  it('allow one complete and one running load per sha256, and enforce the accounting invariant', async () => {
    const db = await freshDatabase();
    const sha = 'a'.repeat(64);
    const insert = (status: string, read: number, staged: number, rejected: number) =>
      db.pool.query(
        `insert into meta.loads (source, sha256, byte_size, rows_read, rows_staged, rows_rejected, status, finished_at)
         values ('f.csv', $1, 10, $2, $3, $4, $5, now())`,
        [sha, read, staged, rejected, status],
      );
    await insert('complete', 3, 2, 1);
    await expect(insert('complete', 3, 2, 1)).rejects.toMatchObject({ code: '23505' });
    await insert('running', 0, 0, 0);
    await expect(insert('running', 0, 0, 0)).rejects.toMatchObject({ code: '23505' });
    await insert('failed', 0, 0, 0);
    await insert('failed', 0, 0, 0);
    await db.pool.query(`delete from meta.loads where status = 'complete'`);
    await expect(insert('complete', 3, 2, 0)).rejects.toMatchObject({ code: '23514' });
  });

  it('two migrators started at once both succeed and apply each migration once', async () => {
    const db = await freshDatabase({ migrated: false });
    const config = { connectionString: db.url };
    const files = (await readdir(migrationsDir)).filter((f) => f.endsWith('.sql')).map((f) => f.replace(/\.sql$/, ''));
    await Promise.all([migrate(config, 'up'), migrate(config, 'up')]);
    const { rows } = await db.pool.query<{ name: string }>('select name from pgmigrations order by run_on, id');
    expect(rows.map((r) => r.name).sort()).toEqual(files.sort());
  });
});
