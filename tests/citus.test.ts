/**
 * The pipeline on a Citus cluster (a coordinator and two workers: the `citus` project of vitest.config.ts).
 * The transform's own tests (the bundled figures, incremental = full, a killed run) run there too; this file
 * checks what only a cluster has: the layout migrate makes, rows of core on both workers, the service
 * logins reaching the workers, and the reading side (training set, report, status) over distributed core.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { projectRoot } from '../loader/paths.js';
import { freshDatabase, type TestDatabase } from './support/db.js';
import { createServiceLogins, libpqEnv, poolAs, type ServiceLogins } from './support/services.js';

const run = promisify(execFile);
const cli = (name: string) => join(projectRoot, 'dist', 'loader', 'cli', `${name}.js`);
const rowTables = ['staging.transactions', 'core.transactions', 'core.duplicates', 'core.quarantine'];

let db: TestDatabase;
let logins: ServiceLogins;
const out = mkdtempSync(join(tmpdir(), 'citus-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

beforeAll(async () => {
  // a copy of the run's bundled template on the cluster, loaded and transformed as deployed: each service as
  // its own login (docker/service-roles.sh), the days as daily files (tests/support/db.ts); logins of this
  // file's own for the reading side
  db = await freshDatabase({ bundled: true });
  logins = createServiceLogins(db);
}, 600_000);

describe('citus: the distributed layout', () => {
  it('citus: migrate distributes the row tables by load_id in one co-location group; the ledger and summaries stay on the coordinator', async () => {
    const { rows } = await db.pool.query<{ table: string; column: string; colocation: number; kind: string }>(
      `select logicalrelid::text as table, column_to_column_name(logicalrelid, partkey) as column, colocationid as colocation,
              partmethod as kind
         from pg_dist_partition order by 1`,
    );
    expect(rows.map((r) => r.table).sort()).toEqual([...rowTables].sort());
    expect(new Set(rows.map((r) => r.column))).toEqual(new Set(['load_id']));
    expect(new Set(rows.map((r) => r.colocation)).size).toBe(1);
    expect(new Set(rows.map((r) => r.kind))).toEqual(new Set(['h']));
  });

  it('citus: rows of core sit on both workers, and the shards hold every row once', async () => {
    const ports = inject('citusWorkerPorts');
    expect(ports).toHaveLength(2);
    const { rows } = await db.pool.query<{ nodeport: number; rows: string }>(
      `select p.nodeport, sum(r.result::bigint)::text as rows
         from run_command_on_placements('core.transactions', 'select count(*) from %s') as r
         join pg_dist_shard_placement as p using (shardid)
        group by p.nodeport order by p.nodeport`,
    );
    expect(rows.map((r) => r.nodeport).sort()).toEqual([...ports].sort());
    for (const r of rows) expect(Number(r.rows)).toBeGreaterThan(100_000);
    expect(rows.reduce((n, r) => n + Number(r.rows), 0)).toBe(536641);
    // and directly on each worker: its own shard tables of core.transactions hold rows
    for (const port of ports) {
      const c = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/${db.name}` });
      await c.connect();
      try {
        // Citus hides shard tables from pg_class but for the applications named here
        await c.query(`set citus.show_shards_for_app_name_prefixes = '*'`);
        const { rows: shards } = await c.query<{ n: string }>(
          `select count(*)::text as n from pg_class where relname ~ '^transactions_[0-9]+$' and relnamespace = 'core'::regnamespace`,
        );
        expect(Number(shards[0]!.n)).toBeGreaterThan(0);
      } finally {
        await c.end();
      }
    }
  });

  it('citus: the service logins worked as deployed, and an analyst login reads the features (contract §5 headline)', async () => {
    const { rows: runs } = await db.pool.query<{ n: number }>(`select count(*)::int as n from meta.transform_runs where status = 'complete'`);
    expect(runs[0]!.n).toBeGreaterThanOrEqual(1);
    const analyst = poolAs(db, logins.analyst);
    try {
      const q = async (sql: string) => (await analyst.query(sql)).rows[0];
      expect(await q('select count(*)::int as n from features.customer_features')).toEqual({ n: 4334 });
      expect(await q(`select sum(gross_revenue)::text as gross, sum(returns_value)::text as returns from features.daily_sales`)).toEqual({ gross: '10247219.32', returns: '893979.73' });
      expect(await q(`select sum(rows_read)::int as read, count(*)::int as loads from meta.load_summary where status = 'complete'`)).toEqual({ read: 541909, loads: 305 });
      await expect(analyst.query('select count(*) from core.transactions')).rejects.toThrow(/permission denied/);
    } finally {
      await analyst.end();
    }
  });
});

describe('citus: the reading side over distributed core', () => {
  it('citus: training_set() gives the same rows as its CSV export', async () => {
    const { rows } = await db.pool.query<{ n: number; labelled: number }>(
      `select count(*)::int as n, count(*) filter (where label_purchased)::int as labelled from features.training_set('2011-09-01', 90)`,
    );
    expect(rows[0]!.n).toBeGreaterThan(2000);
    expect(rows[0]!.labelled).toBeGreaterThan(0);
    const file = join(out, 'train.csv');
    await run(process.execPath, [cli('training-set'), '--quiet', '--cutoff', '2011-09-01', '--horizon-days', '90', '--out', file], { env: db.env });
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines.length - 1).toBe(rows[0]!.n);
  });

  it('citus: the report is written and status exits 0', async () => {
    await run(process.execPath, [cli('report'), '--out', out], { env: libpqEnv(db.url, logins.analyst) });
    expect(statSync(join(out, 'index.html')).size).toBeGreaterThan(10_000);
    const status = await run(process.execPath, [cli('status')], { env: db.env });
    expect(status.stdout).toMatch(/305/);
  });
});
