/**
 * Scaled out, natively, as `docker compose up --scale loader=3 --scale transform=2` runs it: three loader
 * watchers and two transform watchers (the compose commands, as the services' logins) on one inbox, files
 * dropped while they run. Each file is loaded once, each load is transformed once, and every figure equals
 * a single-process run (`npm run load` of the same files, then `npm run transform`) on another database.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

import { bundledDataDir, projectRoot } from '../loader/paths.js';
import { loadCompose } from './support/compose.js';
import { freshDatabase } from './support/db.js';
import { dropFile, startService, until, type ServiceProcess } from './support/service-process.js';
import { createServiceLogins, libpqEnv } from './support/services.js';

const compose = loadCompose();
const work = mkdtempSync(join(tmpdir(), 'scale-'));
const services: ServiceProcess[] = [];
afterAll(() => {
  for (const s of services) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});
const fast = { WATCH_POLL_SECONDS: '0.1', WATCH_SETTLE_SECONDS: '0.3', WATCH_RETRY_SECONDS: '1', WATCH_GRACE_SECONDS: '3', WATCH_FALLBACK_SECONDS: '1' };

// eight bundled days, spread over the year
const days = readdirSync(bundledDataDir).filter((f) => f.endsWith('.csv.gz')).sort().filter((_, i) => i % 38 === 0).slice(0, 8);

/** What both runs must agree on, read independently of load ids (which depend on the order of loading). */
async function figures(pool: pg.Pool) {
  const one = async (sql: string) => (await pool.query(sql)).rows;
  const features: Record<string, unknown[]> = {};
  for (const { name } of await one(`select format('%I.%I', n.nspname, c.relname) as name from pg_class as c join pg_namespace as n on n.oid = c.relnamespace where n.nspname = 'features' and c.relkind = 'm' order by 1`)) {
    features[name] = (await one(`select to_jsonb(t)::text as row from ${name} as t order by 1`)).map((r) => r.row);
  }
  return {
    features,
    core: await one(`select line_kind, count(*)::int as lines, sum(line_amount)::text as amount from core.transactions group by 1 order by 1`),
    quarantine: await one(`select count(*)::int as n from core.quarantine`),
    // per file (every duplicate of the bundled data is within one day's file, so per-file figures do not depend on load order)
    loads: (await one(`select source, status, rows_read::int, rows_staged::int, rows_rejected::int, rows_quarantined::int, duplicates::int, rows_clean::int from meta.load_summary where status = 'complete'`))
      .map((r) => ({ ...r, source: basename(r.source as string) }))
      .sort((a, b) => (a.source < b.source ? -1 : 1)),
  };
}

describe('three loader watchers and two transform watchers on one inbox', () => {
  it('load each file once and transform each load once, with the figures of a single-process run', async () => {
    const db = await freshDatabase();
    const logins = createServiceLogins(db);
    const inbox = mkdtempSync(join(work, 'inbox-'));
    const start = (args: string[], env: NodeJS.ProcessEnv) => {
      const s = startService(args, { cwd: projectRoot, env });
      services.push(s);
      return s;
    };
    const loaders = [1, 2, 3].map(() => start(compose.services.loader!.command!.slice(1).map((a) => (a === '/inbox' ? inbox : a)), libpqEnv(db.url, logins.loader, fast)));
    const transforms = [1, 2].map(() => start(compose.services.transform!.command!.slice(1), libpqEnv(db.url, logins.transformer, fast)));
    const all = [...loaders, ...transforms];
    for (const l of loaders) await l.waitFor((e) => e.event === 'watching');
    // dropped one after another while all five watch
    for (const day of days) dropFile(inbox, day, readFileSync(join(bundledDataDir, day)));
    await until(async () => (await db.pool.query(`select 1 from meta.loads where status = 'complete'`)).rowCount === days.length, all);
    await until(async () => (await db.pool.query(`select 1 from meta.transform_loads`)).rowCount === days.length, all);
    // every loader has dealt with every file (loaded it, or skipped it as loaded or being loaded by another)
    await until(() => loaders.every((l) => days.every((d) => l.events.some((e) => ['loaded', 'skipped'].includes(e.event) && e.file === join(inbox, d)))), all);
    for (const s of all) expect(await s.stop()).toBe(0);

    const loaded = loaders.flatMap((l) => l.events.filter((e) => e.event === 'loaded').map((e) => basename(e.file as string)));
    expect(loaded.sort()).toEqual([...days].sort()); // each file loaded by exactly one watcher
    const ledger = await db.pool.query(`select source, count(*)::int as n from meta.loads group by source having count(*) > 1 or bool_or(status <> 'complete')`);
    expect(ledger.rows).toEqual([]); // one ledger row per file, complete: no load attempted twice
    const runs = await db.pool.query(`select count(*)::int as n from meta.transform_runs where status <> 'complete'`);
    expect(runs.rows[0].n).toBe(0);
    for (const s of all) {
      expect(s.otherLines).toEqual([]);
      expect(s.events.filter((e) => ['failed', 'transform_failed', 'load_error', 'check_failed'].includes(e.event))).toEqual([]);
    }

    // the same files, one process each step
    const single = await freshDatabase();
    const copy = mkdtempSync(join(work, 'single-'));
    for (const day of days) copyFileSync(join(bundledDataDir, day), join(copy, day));
    for (const args of [['load', copy], ['transform']]) {
      const run = spawnSync(process.execPath, [join(projectRoot, 'dist', 'loader', 'cli', `${args[0]}.js`), ...args.slice(1)], { env: single.env, encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
    }
    const scaled = await figures(db.pool);
    const reference = await figures(single.pool);
    expect(Object.keys(reference.features).length).toBeGreaterThanOrEqual(4);
    expect(reference.loads).toHaveLength(days.length);
    expect(scaled).toEqual(reference);
  });
});
