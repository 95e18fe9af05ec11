/**
 * The watch modes end to end, as the compose services run them: the exact commands of
 * docker-compose.yml (the container's /inbox replaced by a temp folder), logged in as the services'
 * own login roles, on a real PostgreSQL. Files dropped while the loader watches; the transform reacts;
 * SIGTERM mid-file leaves no partial load; two loader watchers on one folder load each file once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { projectRoot } from '../loader/paths.js';
import { loadCompose } from './support/compose.js';
import { freshDatabase, type TestDatabase } from './support/db.js';
import { dropFile, startService, until, type ServiceProcess } from './support/service-process.js';
import { createServiceLogins, libpqEnv, type ServiceLogins } from './support/services.js';

const compose = loadCompose();
const loaderCommand = (inbox: string) => compose.services.loader!.command!.slice(1).map((a) => (a === '/inbox' ? inbox : a));
const transformCommand = () => compose.services.transform!.command!.slice(1);
const fast = { WATCH_POLL_SECONDS: '0.1', WATCH_SETTLE_SECONDS: '0.3', WATCH_RETRY_SECONDS: '60', WATCH_GRACE_SECONDS: '3' };

const header = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
/** `n` distinct, valid sale lines (no duplicates among them or with another prefix). */
function lines(prefix: string, n: number): string {
  const out = [header];
  for (let i = 0; i < n; i++) {
    out.push(`${prefix}${i},SKU${i % 40},"Item ${i}, boxed",${1 + (i % 7)},2011-03-${String(1 + (i % 28)).padStart(2, '0')} 10:${String(i % 60).padStart(2, '0')}:00,${(1 + (i % 90) / 10).toFixed(2)},${13000 + (i % 500)}.0,United Kingdom`);
  }
  return out.join('\n') + '\n';
}

const dirs: string[] = [];
const services: ServiceProcess[] = [];
afterAll(async () => {
  for (const s of services) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});
function inbox(): string {
  const d = mkdtempSync(join(tmpdir(), 'inbox-'));
  dirs.push(d);
  return d;
}

interface Stack {
  db: TestDatabase;
  logins: ServiceLogins;
  loader(dir: string, extra?: NodeJS.ProcessEnv): ServiceProcess;
  transform(extra?: NodeJS.ProcessEnv): ServiceProcess;
  count(sql: string, params?: unknown[]): Promise<number>;
}

async function stack(): Promise<Stack> {
  const db = await freshDatabase();
  const logins = createServiceLogins(db);
  const start = (args: string[], env: NodeJS.ProcessEnv) => {
    const s = startService(args, { cwd: projectRoot, env });
    services.push(s);
    return s;
  };
  return {
    db,
    logins,
    loader: (dir, extra = {}) => start(loaderCommand(dir), libpqEnv(db.url, logins.loader, { ...fast, ...extra })),
    transform: (extra = {}) => start(transformCommand(), libpqEnv(db.url, logins.transformer, { ...fast, ...extra })),
    count: async (sql, params = []) => Number((await db.pool.query<{ n: string }>(sql, params)).rows[0]!.n),
  };
}

const isEvent = (event: string, file?: string) => (e: { event: string; file?: unknown }) => e.event === event && (file === undefined || e.file === file);

describe('load --watch and transform --watch', () => {
  it('load files dropped into the inbox, and the transform reacts to each load (NOTIFY, no fallback needed)', async () => {
    const s = await stack();
    const dir = inbox();
    const loader = s.loader(dir);
    const transform = s.transform({ WATCH_FALLBACK_SECONDS: '3600' });
    await loader.waitFor(isEvent('watching'));
    await transform.waitFor(isEvent('listening'));
    await transform.waitFor(isEvent('transformed')); // the start-up run, on an empty database

    // by hand, per the contract: b's first line repeats a's second (one duplicate); one cancellation
    const a = dropFile(dir, 'a.csv', [
      header,
      '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom',
      '536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom',
      'C536379,D,Discount,-1,2010-12-01 09:41:00,27.50,14527.0,United Kingdom',
    ].join('\r\n') + '\r\n');
    await loader.waitFor(isEvent('loaded', a));
    await until(async () => (await s.count('select count(*) as n from core.transactions')) === 3, [loader, transform]);

    const b = join(dir, 'b.csv'); // written in place, in two steps: loaded once complete
    writeFileSync(b, header + '\n536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom\n');
    writeFileSync(b, '536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom\n', { flag: 'a' });
    await loader.waitFor(isEvent('loaded', b));
    // a file that cannot be loaded as it is: reported once, not retried, and the watcher goes on
    const bad = dropFile(dir, 'bad.csv', 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID\n1,2,3,4,5,6,7\n');
    const failed = await loader.waitFor(isEvent('failed', bad));
    expect(failed.error).toMatch(/missing column country/i);
    dropFile(dir, 'notes.txt', 'not data');
    await loader.waitFor(isEvent('ignored'));
    await until(async () => (await s.count('select count(*) as n from core.transactions')) === 4, [loader, transform]);

    expect(await s.count(`select count(*) as n from meta.loads where status = 'complete'`)).toBe(2);
    expect(await s.count('select count(*) as n from staging.transactions')).toBe(5);
    expect(await s.count(`select count(*) as n from core.transactions where line_kind = 'sale'`)).toBe(3);
    expect(await s.count(`select count(*) as n from core.transactions where line_kind = 'cancellation'`)).toBe(1);
    const features = await s.db.pool.query<{ customer_id: number; frequency: number; monetary: string }>(
      'select customer_id, frequency::int as frequency, monetary::text as monetary from features.customer_features order by customer_id',
    );
    expect(features.rows).toEqual([{ customer_id: 17850, frequency: 2, monetary: '46.74' }]); // 6×2.55 + 6×3.39 + 6×1.85

    // what the transform created belongs to its role, and analyst reads every one of them
    const { rows: owners } = await s.db.pool.query<{ owner: string }>(
      `select distinct pg_get_userbyid(c.relowner) as owner from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = 'features' and c.relkind in ('r', 'v', 'm')`,
    );
    expect(owners).toEqual([{ owner: 'transformer' }]);

    expect(await loader.stop()).toBe(0);
    expect(await transform.stop()).toBe(0);
    for (const p of [loader, transform]) {
      expect(p.otherLines).toEqual([]);
      expect(p.stderr()).toBe('');
      expect(p.events.at(-1)?.event).toBe('stopped');
    }
    expect(loader.events.filter((e) => e.event === 'loaded').map((e) => e.file)).toEqual([a, b]);
    expect(loader.events.filter((e) => e.event === 'failed').map((e) => e.file)).toEqual([bad]);
    expect(loader.events.every((e) => e.service === 'loader')).toBe(true);
    expect(transform.events.filter((e) => e.event === 'transformed').length).toBeGreaterThanOrEqual(3);
  });

  it('two loader watchers on one folder load each file once', async () => {
    const s = await stack();
    const dir = inbox();
    const sizes: Record<string, number> = {};
    for (let f = 0; f < 6; f++) {
      const path = dropFile(dir, `day-${f}.csv`, lines(`F${f}-`, 300 + 50 * f));
      sizes[path] = 300 + 50 * f;
    }
    const first = s.loader(dir);
    const second = s.loader(dir);
    const outcome = (e: { event: string }) => ['loaded', 'skipped', 'failed'].includes(e.event);
    await until(() => Object.keys(sizes).every((f) => [first, second].every((p) => p.events.some((e) => outcome(e) && e.file === f))), [first, second]);
    expect(await first.stop()).toBe(0);
    expect(await second.stop()).toBe(0);

    const loaded = [...first.events, ...second.events].filter((e) => e.event === 'loaded').map((e) => e.file as string);
    expect(loaded.sort()).toEqual(Object.keys(sizes).sort()); // each file loaded by exactly one of them
    const { rows } = await s.db.pool.query<{ source: string; rows_staged: number; staged: number }>(
      `select l.source, l.rows_staged::int, (select count(*)::int from staging.transactions as t where t.load_id = l.load_id) as staged
         from meta.loads as l where l.status = 'complete' order by l.source`,
    );
    expect(rows.map((r) => [r.source, r.rows_staged, r.staged])).toEqual(Object.entries(sizes).sort().map(([f, n]) => [f, n, n]));
    const total = Object.values(sizes).reduce((x, y) => x + y, 0);
    expect(await s.count('select count(*) as n from staging.transactions')).toBe(total);
  });

  it('SIGTERM in the middle of a file: exit 0, nothing of the file visible; the next watcher loads it whole', async () => {
    const s = await stack();
    const dir = inbox();
    const rowCount = 20_000;
    // hold the load in the middle: while this lock is held no row can be written to staging
    const blocker = await s.db.pool.connect();
    await blocker.query('begin');
    await blocker.query('lock table staging.transactions in share mode');
    const waitingOnStaging = () =>
      s.count(`select count(*) as n from pg_locks where relation = 'staging.transactions'::regclass and not granted and database = (select oid from pg_database where datname = current_database())`);

    const loader = s.loader(dir);
    await loader.waitFor(isEvent('watching'));
    const file = dropFile(dir, 'big.csv', lines('BIG-', rowCount));
    await loader.waitFor(isEvent('loading', file));
    await until(async () => (await waitingOnStaging()) > 0, [loader]);
    expect(await loader.stop()).toBe(0);
    expect(loader.events.some((e) => e.event === 'stopping')).toBe(true);
    expect(loader.events.some((e) => e.event === 'loaded')).toBe(false);
    expect(loader.events.at(-1)?.event).toBe('abandoned'); // it could not finish: the lock holds it

    await blocker.query('rollback');
    blocker.release();
    // the abandoned session ends as soon as it can run again; then nothing of the file is visible
    await until(async () => (await s.count('select count(*) as n from pg_stat_activity where usename = $1', [s.logins.loader.user])) === 0);
    expect(await s.count(`select count(*) as n from meta.loads where status = 'complete'`)).toBe(0);
    expect(await s.count(`select count(*) as n from staging.transactions as t join meta.loads as l using (load_id) where l.status = 'complete'`)).toBe(0);

    const again = s.loader(dir);
    await again.waitFor(isEvent('loaded', file));
    expect(await again.stop()).toBe(0);
    const { rows } = await s.db.pool.query<{ rows_read: number; rows_staged: number; rows_rejected: number }>(
      `select rows_read::int, rows_staged::int, rows_rejected::int from meta.loads where status = 'complete'`,
    );
    expect(rows).toEqual([{ rows_read: rowCount, rows_staged: rowCount, rows_rejected: 0 }]);
    expect(await s.count('select count(*) as n from staging.transactions')).toBe(rowCount);
  });

  it('SIGTERM while a file loads: the file is finished within the grace time, then exit 0', async () => {
    const s = await stack();
    const dir = inbox();
    const blocker = await s.db.pool.connect();
    await blocker.query('begin');
    await blocker.query('lock table staging.transactions in share mode');
    const loader = s.loader(dir, { WATCH_GRACE_SECONDS: '30' });
    await loader.waitFor(isEvent('watching'));
    const file = dropFile(dir, 'mid.csv', lines('MID-', 5_000));
    await loader.waitFor(isEvent('loading', file));
    await until(async () => (await s.count(`select count(*) as n from pg_locks where relation = 'staging.transactions'::regclass and not granted and database = (select oid from pg_database where datname = current_database())`)) > 0, [loader]);
    loader.child.kill('SIGTERM');
    await loader.waitFor(isEvent('stopping'));
    await blocker.query('rollback'); // the load may go on now
    blocker.release();
    expect(await loader.exited).toBe(0);
    expect(loader.events.map((e) => e.event).slice(-3)).toEqual(['stopping', 'loaded', 'stopped']);
    expect(await s.count(`select count(*) as n from staging.transactions as t join meta.loads as l using (load_id) where l.status = 'complete'`)).toBe(5_000);
  });

  it('two transform watchers process each load once', async () => {
    const s = await stack();
    const dir = inbox();
    const transforms = [s.transform({ WATCH_FALLBACK_SECONDS: '1' }), s.transform({ WATCH_FALLBACK_SECONDS: '1' })];
    for (const t of transforms) await t.waitFor((e) => e.event === 'transformed' || e.event === 'busy');
    const loader = s.loader(dir);
    const sizes = [120, 80, 200, 60];
    sizes.forEach((n, f) => dropFile(dir, `part-${f}.csv`, lines(`P${f}-`, n)));
    const all = [loader, ...transforms];
    await until(async () => (await s.count(`select count(*) as n from meta.loads where status = 'complete'`)) === sizes.length, all);
    await until(async () => (await s.count('select count(*) as n from meta.transform_loads')) === sizes.length, all);
    for (const p of all) expect(await p.stop()).toBe(0);

    const total = sizes.reduce((x, y) => x + y, 0);
    expect(await s.count('select count(*) as n from core.transactions')).toBe(total);
    // no load went through the transform twice
    expect(await s.count(`select coalesce(sum(loads_processed), 0) as n from meta.transform_runs where status = 'complete'`)).toBe(sizes.length);
    expect(await s.count(`select count(*) as n from meta.transform_runs where status <> 'complete'`)).toBe(0);
  });
});
