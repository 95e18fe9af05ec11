/**
 * `npm run status`: the pure verdict and arguments, then the real command on a real PostgreSQL driven by
 * the real loader and transform through each state it reports: fresh, loaded and transformed, old data,
 * a load waiting for the transform, a running load that is alive and one whose process was killed, a
 * failed load, a failed transform. Where a state needs time to pass (data hours old), the ledger's
 * timestamps are moved back instead of waiting.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { afterAll, describe, expect, it } from 'vitest';

import { projectRoot, sqlDir } from '../loader/paths.js';
import { parseStatusArgs } from '../loader/status/args.js';
import { duration, problems } from '../loader/status/assess.js';
import { formatStatus } from '../loader/status/format.js';
import { statusQueries } from '../loader/status/read.js';
import type { StatusReport, StatusSnapshot } from '../loader/status/types.js';
import { freshDatabase } from './support/db.js';
import { until } from './support/service-process.js';

const work = mkdtempSync(join(tmpdir(), 'status-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const empty: StatusSnapshot = {
  checkedAt: '2024-01-01T00:00:00.000Z',
  newestLoad: null,
  waiting: { count: 0, oldestLoadId: null, oldestSince: null, waitedSeconds: null },
  running: [],
  failedSinceNewest: { count: 0, recent: [] },
  lastRun: null,
  lastFailedRun: null,
  lastCompleteRunId: null,
  asOfDate: null,
  views: [],
};

describe('the verdict (pure)', () => {
  it('is healthy without thresholds, whatever the age and lag', () => {
    const old = { ...empty, newestLoad: { loadId: 1, source: 'a', finishedAt: 'x', ageSeconds: 1e7 }, waiting: { count: 1, oldestLoadId: 1, oldestSince: 'x', waitedSeconds: 1e7 } };
    expect(problems(old, {})).toEqual([]);
  });

  it('says why: data too old or missing, a load waiting too long, the last finished run failed', () => {
    expect(problems(empty, { maxAge: 3600 })).toEqual(['no complete load yet (--max-age 1.0 h)']);
    const s = { ...empty, newestLoad: { loadId: 4, source: 'a', finishedAt: 'T', ageSeconds: 7200 }, waiting: { count: 2, oldestLoadId: 3, oldestSince: 'T', waitedSeconds: 1200 } };
    expect(problems(s, { maxAge: 7300, maxLag: 1300 })).toEqual([]);
    expect(problems(s, { maxAge: 3600, maxLag: 600 })).toEqual([
      'data is 2.0 h old: the newest complete load (load 4) finished T, over --max-age 1.0 h',
      'load 3 has waited 20 min for the transform (2 waiting), over --max-lag 10 min',
    ]);
    const failed = { ...empty, lastFailedRun: { runId: 5, startedAt: 'T', finishedAt: 'T', error: 'boom\nmore' }, lastCompleteRunId: 4 };
    expect(problems(failed, {})).toEqual(['the last transform failed (run 5): boom']);
    expect(problems({ ...failed, lastCompleteRunId: 6 }, {})).toEqual([]); // a later run succeeded
  });

  it('prints one labelled line per part and the verdict last', () => {
    const lines = formatStatus({
      ...empty,
      healthy: false,
      problems: ['a', 'b'],
      running: [{ loadId: 9, source: 'x.csv', startedAt: 'T', ageSeconds: 120, alive: false }],
      views: [{ name: 'features.daily_sales', kind: 'materialized view', rows: 1234 }, { name: 'features.v', kind: 'view', rows: null }],
    });
    expect(lines).toEqual([
      'newest load:    none complete yet',
      'waiting:        none: every complete load is transformed',
      'running loads:  load 9, x.csv, since T (2 min): abandoned: no process holds its lock (the next load marks it failed and cleans up)',
      'failed loads:   none since the newest complete load',
      'last transform: never run',
      'last failure:   none',
      'as_of_date:     none (no customer features yet)',
      'features:       features.daily_sales 1,234, features.v (view, not counted)',
      'unhealthy: a; b',
    ]);
  });

  it('reads its arguments: hours and minutes, positive numbers only', () => {
    expect(parseStatusArgs(['--json', '--max-age', '26', '--max-lag=30'])).toEqual({ json: true, help: false, maxAge: 26 * 3600, maxLag: 30 * 60 });
    expect(parseStatusArgs([])).toEqual({ json: false, help: false, maxAge: undefined, maxLag: undefined });
    for (const bad of [['--max-age', '0'], ['--max-lag', 'x'], ['--max-age', '-1'], ['--nope'], ['extra']]) {
      expect(() => parseStatusArgs(bad), bad.join(' ')).toThrow(expect.objectContaining({ exitCode: 2 }));
    }
    expect(duration(45)).toBe('45 s');
    expect(duration(3 * 86_400)).toBe('3.0 days');
  });
});

const db = await freshDatabase();
const header = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';

function cli(name: string, args: string[]) {
  return spawnSync(process.execPath, [join(projectRoot, 'dist', 'loader', 'cli', `${name}.js`), ...args], { env: db.env, encoding: 'utf8' });
}
function status(...args: string[]): { code: number | null; report: StatusReport; stderr: string } {
  const run = cli('status', ['--json', ...args]);
  return { code: run.status, report: JSON.parse(run.stdout) as StatusReport, stderr: run.stderr };
}
function file(name: string, rows: string[]): string {
  const path = join(work, name);
  writeFileSync(path, [header, ...rows].join('\n') + '\n');
  return path;
}
const sql = (text: string, params: unknown[] = []) => db.pool.query(text, params);

describe('npm run status, on a real database', () => {
  it('a migrated database with nothing in it: healthy, until --max-age asks for data', () => {
    const s = status();
    expect(s.code).toBe(0);
    expect(s.report).toMatchObject({ healthy: true, problems: [], newestLoad: null, lastRun: null, running: [], asOfDate: null });
    const old = status('--max-age', '24');
    expect(old.code).toBe(1);
    expect(old.stderr).toBe('status: unhealthy: no complete load yet (--max-age 24.0 h)\n');
    const text = cli('status', []);
    expect(text.status).toBe(0);
    expect(text.stdout.trimEnd().split('\n').at(-1)).toBe('healthy');
  });

  it('loaded and transformed: the newest load, the run, as_of_date and rows per view', () => {
    const a = file('a.csv', ['1,P1,x,2,2011-03-01 10:00:00,1.00,100,UK', '2,P2,y,1,2011-03-04 09:00:00,2.00,200,UK']);
    const b = file('b.csv', ['3,P1,x,1,2011-03-07 23:59:00,1.00,300,FR', 'C4,P1,x,-1,2011-03-09 08:00:00,1.00,100,UK']);
    expect(cli('load', [a]).status).toBe(0);
    expect(cli('load', [b]).status).toBe(0);
    expect(cli('transform', []).status).toBe(0);
    const s = status('--max-age', '1', '--max-lag', '1');
    expect(s.code).toBe(0);
    expect(s.report.newestLoad).toMatchObject({ source: b });
    expect(s.report.waiting.count).toBe(0);
    expect(s.report.lastRun).toMatchObject({ status: 'complete', full: true, fullReason: 'first transform (core is empty)', loads: 2, error: null });
    expect(s.report.lastFailedRun).toBeNull();
    expect(s.report.asOfDate).toBe('2011-03-10'); // the day after the latest invoice_date (the cancellation)
    const rows = Object.fromEntries(s.report.views.map((v) => [v.name, v.rows]));
    // customers with a sale: 100, 200, 300; days with a sale or cancellation: 4; products with a sale: P1, P2
    expect(rows).toMatchObject({ 'features.customer_features': 3, 'features.daily_sales': 4, 'features.product_features': 2 });
  });

  it('data older than --max-age, and a load waiting longer than --max-lag: exit 1 with one line saying why', async () => {
    await sql(`update meta.loads set finished_at = now() - interval '3 hours', started_at = now() - interval '3 hours'`);
    expect(status('--max-age', '4').code).toBe(0);
    const old = status('--max-age', '2');
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/^status: unhealthy: data is 3\.0 h old: the newest complete load \(load \d+\) finished .*, over --max-age 2\.0 h\n$/);

    const c = file('c.csv', ['5,P3,z,1,2011-03-11 10:00:00,3.00,400,UK']);
    expect(cli('load', [c]).status).toBe(0);
    const { rows } = await sql(`update meta.loads set finished_at = now() - interval '20 minutes' where source = $1 returning load_id::int`, [c]);
    const waiting = status('--max-lag', '10', '--max-age', '1');
    expect(waiting.code).toBe(1);
    expect(waiting.report.waiting).toMatchObject({ count: 1, oldestLoadId: rows[0].load_id });
    expect(waiting.report.problems).toEqual([expect.stringMatching(new RegExp(`^load ${rows[0].load_id} has waited 20 min for the transform \\(1 waiting\\), over --max-lag 10 min$`))]);
    expect(status('--max-lag', '30').code).toBe(0);
  });

  it('a running load is alive while its process holds the lock, and abandoned once that process is killed', async () => {
    const blocker = await db.pool.connect();
    await blocker.query('begin');
    await blocker.query('lock table staging.transactions in share mode'); // the load stops at its first COPY
    const d = file('d.csv', Array.from({ length: 50 }, (_, i) => `D${i},P1,x,1,2011-03-12 10:00:00,1.00,500,UK`));
    const loader = spawn(process.execPath, [join(projectRoot, 'dist', 'loader', 'cli', 'load.js'), d], { env: db.env, stdio: 'ignore' });
    try {
      await until(async () => (await sql(`select 1 from pg_locks where relation = 'staging.transactions'::regclass and not granted and database = (select oid from pg_database where datname = current_database())`)).rowCount! > 0);
      const alive = status();
      expect(alive.report.running).toEqual([expect.objectContaining({ source: d, alive: true })]);
      loader.kill('SIGKILL');
      await until(async () => status().report.running.every((r) => !r.alive));
      expect(status().report.running).toEqual([expect.objectContaining({ source: d, alive: false })]);
    } finally {
      loader.kill('SIGKILL');
      await blocker.query('rollback');
      blocker.release();
    }
  });

  it('failed loads since the newest complete one, and a failed transform (exit 1), until a run succeeds', async () => {
    const truncated = join(work, 'cut.csv.gz');
    const whole = gzipSync([header, ...Array.from({ length: 5000 }, (_, i) => `G${i},P${i},item ${i},1,2011-03-13 10:00:00,1.00,${600 + (i % 50)},UK`)].join('\n'));
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    expect(cli('load', [truncated]).status).toBe(1); // and it cleans up the abandoned load of the test above
    const s = status();
    expect(s.report.failedSinceNewest.count).toBe(2);
    expect(s.report.failedSinceNewest.recent.map((r) => r.source).sort()).toEqual([truncated, join(work, 'd.csv')].sort());
    expect(s.report.running).toEqual([]);

    const broken = join(work, 'sql');
    cpSync(sqlDir, broken, { recursive: true });
    const target = readdirSync(broken).find((f) => f.includes('features.daily_sales'))!;
    writeFileSync(join(broken, target), 'create materialized view features.daily_sales as select nope from core.transactions;\n');
    expect(cli('transform', ['--sql-dir', broken]).status).toBe(1);
    const failed = status();
    expect(failed.code).toBe(1);
    expect(failed.report.lastRun).toMatchObject({ status: 'failed' });
    expect(failed.stderr).toMatch(/^status: unhealthy: the last transform failed \(run \d+\): .*nope.*\n$/);
    expect(failed.report.lastFailedRun?.error).toMatch(/nope/);

    expect(cli('transform', []).status).toBe(0);
    const ok = status('--max-lag', '1', '--max-age', '1');
    expect(ok.code).toBe(0);
    expect(ok.report.waiting.count).toBe(0);
    expect(ok.report.lastFailedRun).not.toBeNull(); // still reported, no longer the verdict
  });

  it('exit 2 for usage and connection errors, and on a database that is not migrated', async () => {
    const usage = cli('status', ['--max-age']);
    expect(usage.status).toBe(2);
    const bare = await freshDatabase({ migrated: false });
    const run = spawnSync(process.execPath, [join(projectRoot, 'dist', 'loader', 'cli', 'status.js')], { env: bare.env, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/not migrated.*npm run migrate/);
    expect((await bare.pool.query(`select to_regclass('meta.loads') as t`)).rows[0].t).toBeNull(); // status changed nothing
    const away = spawnSync(process.execPath, [join(projectRoot, 'dist', 'loader', 'cli', 'status.js')], { env: { ...db.env, DATABASE_URL: 'postgres://x:y@127.0.0.1:1/none' }, encoding: 'utf8' });
    expect(away.status).toBe(2);
    expect(away.stderr).toMatch(/^status: cannot connect to the database/);
  });

  it('reads neither staging nor core: no plan of its fixed queries touches them', async () => {
    const forbidden = /^(staging|core)\./;
    for (const [name, text] of Object.entries(statusQueries)) {
      const { rows } = await sql(`explain (format json, verbose) ${text}`, name === 'failedSince' ? [null] : []);
      const relations: string[] = [];
      const walk = (node: Record<string, unknown>): void => {
        if (typeof node['Relation Name'] === 'string') relations.push(`${node.Schema}.${node['Relation Name']}`);
        for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
      };
      walk((rows[0]['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan);
      expect(relations.length, name).toBeGreaterThan(0);
      expect(relations.filter((r) => forbidden.test(r)), name).toEqual([]);
    }
  });
});
