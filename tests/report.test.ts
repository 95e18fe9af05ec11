/**
 * npm run report on the bundled dataset, run as a login that is only a member of analyst: every section is
 * there, the headline equals SQL on core, the file references nothing outside itself; and (real browser)
 * Debian's headless Chromium opens it with the network disabled, without console errors or requests,
 * and every chart has drawn marks.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { projectRoot } from '../loader/paths.js';
import { runTransform } from '../loader/transform/index.js';
import { freshDatabase, type TestDatabase } from './support/db.js';

const exec = promisify(execFile);
const reportCli = join(projectRoot, 'dist', 'loader', 'cli', 'report.js');
/** Debian's chromium (CHROMIUM_PATH only to try the skipped case: .ci/run requires the real one) */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = join(projectRoot, 'test-artifacts');

async function report(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [reportCli, ...args], { env, maxBuffer: 1 << 24 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** env for a child process as `user` on the test database */
function envAs(db: TestDatabase, user: string, password: string): NodeJS.ProcessEnv {
  const u = new URL(db.url);
  u.username = user;
  u.password = password;
  return { ...db.env, DATABASE_URL: u.toString() };
}

let db: TestDatabase;
let out: string;
let html: string;
let summary: Record<string, unknown>;
const logins: string[] = [];
const password = randomBytes(12).toString('hex');

beforeAll(async () => {
  // the bundled dataset loaded by the loader CLI and transformed (a copy of the run's template: tests/support/db.ts)
  db = await freshDatabase({ bundled: true });
  await runTransform(db); // a second, incremental run: the runs chart has both kinds
  const analyst = `report_analyst_${randomBytes(4).toString('hex')}`;
  const nobody = `report_nobody_${randomBytes(4).toString('hex')}`;
  logins.push(analyst, nobody);
  await db.pool.query(`create role ${analyst} login password '${password}' in role analyst`);
  await db.pool.query(`create role ${nobody} login password '${password}'`);
  out = await mkdtemp(join(tmpdir(), 'report-'));
  const r = await report(envAs(db, analyst, password), ['--out', out, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  summary = JSON.parse(r.stdout) as Record<string, unknown>;
  html = await readFile(join(out, 'index.html'), 'utf8');
}, 300_000);

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
  for (const login of logins) await db?.pool.query(`drop role if exists ${login}`);
});

const figure = (name: string) => new RegExp(`data-figure="${name}" data-value="([^"]*)"`).exec(html)?.[1];

describe('report', () => {
  it('holds each section and a chart per section that has data', () => {
    for (const id of ['headline', 'daily', 'cohorts', 'rfm', 'products', 'quality', 'runs', 'dictionary']) expect(html).toContain(`data-section="${id}"`);
    for (const id of ['daily', 'cohorts', 'rfm', 'products', 'quality', 'runs', 'files']) expect(html).toMatch(new RegExp(`<figure class="chart" data-chart="${id}" data-rows="\\d+"><svg`));
    expect(summary).toMatchObject({ path: join(out, 'index.html'), as_of_date: '2011-12-10', bytes: Buffer.byteLength(html) });
    // the worst loads, with the SQL to see their rows
    expect(html).toContain('The 10 worst loads');
    expect(html).toContain('from staging.load_rejects where load_id =');
  });

  it('shows headline numbers equal to SQL on core and the ledger', async () => {
    const q = async (sql: string) => (await db.pool.query(sql)).rows[0] as Record<string, string>;
    const expected = await q(`
      select (select sum(rows_read) from meta.loads where status = 'complete')::text as rows_loaded,
             (select count(*) from staging.load_rejects)::text as rows_rejected,
             (select count(*) from core.quarantine)::text as rows_quarantined,
             ((select count(*) from staging.transactions) - (select count(*) from core.transactions) - (select count(*) from core.quarantine))::text as duplicates,
             (select count(distinct customer_id) from core.transactions where line_kind = 'sale')::text as customers,
             (select round(sum(line_amount), 2) from core.transactions where line_kind = 'sale')::text as gross_revenue,
             (select round(-sum(line_amount), 2) from core.transactions where line_kind = 'cancellation')::text as returns_value,
             (select to_char(max(invoice_date)::date + 1, 'YYYY-MM-DD') from core.transactions) as as_of_date`);
    for (const [name, value] of Object.entries(expected)) expect(figure(name), name).toBe(value);
    // and the contract's reference figures (§5)
    expect(expected).toEqual({ rows_loaded: '541909', rows_rejected: '0', rows_quarantined: '0', duplicates: '5268', customers: '4334', gross_revenue: '10247219.32', returns_value: '893979.73', as_of_date: '2011-12-10' });
    const run = await q(`select run_id::text, is_full, round(extract(epoch from finished_at - started_at) * 1000)::text as ms, finished_at
                           from meta.transform_runs where status = 'complete' order by run_id desc limit 1`);
    expect(figure('last_transform')).toBe(run.run_id);
    expect(figure('last_transform_mode')).toBe(run.is_full ? 'full' : 'incremental');
    expect(figure('last_transform_ms')).toBe(run.ms);
    expect(figure('last_transform_at')).toBe(new Date(run.finished_at!).toISOString());
    expect(html).toContain('>10,247,219.32<');
    const latest = await q(`select loads.load_id::text as load_id, loads.source from meta.loads as loads where loads.status = 'complete' order by loads.load_id desc limit 1`);
    expect(figure('latest_load')).toBe(latest.load_id);
    expect(html).toContain(`<code>${latest.source}</code>`);
  });

  it('documents every published relation and column in the dictionary, from the comments', async () => {
    const { rows } = await db.pool.query<{ relation: string; columns: number }>(
      `select n.nspname || '.' || c.relname as relation, count(*)::int as columns
         from pg_class as c inner join pg_namespace as n on n.oid = c.relnamespace
         inner join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where c.relkind in ('r', 'v', 'm') and (n.nspname = 'features' or (n.nspname, c.relname) in
              (('meta', 'load_summary'), ('meta', 'loads'), ('core', 'transactions'), ('core', 'quarantine'), ('staging', 'transactions'), ('staging', 'load_rejects')))
        group by 1`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(10);
    for (const r of rows) {
      const block = new RegExp(`data-relation="${r.relation.replace('.', '\\.')}">([\\s\\S]*?)</table></div>`).exec(html)?.[1];
      expect(block, r.relation).toBeDefined();
      expect((block!.match(/<tr><td><code>/g) ?? []).length, r.relation).toBe(r.columns);
    }
    expect(html).not.toContain('(no comment)');
    const { rows: one } = await db.pool.query(`select col_description('features.customer_features'::regclass, 9) as c`);
    expect(html).toContain(one[0].c.replace(/'/g, '&#39;'));
  });

  it('references nothing outside the file: no script, no link, no http(s) source', () => {
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/\b(src|href|xlink:href)\s*=\s*["']?\s*(https?:|\/\/|file:|data:)/i);
    expect(html).not.toMatch(/url\(\s*["']?(?!#)/i); // only url(#clip…) fragments of the SVG itself
    expect(html).not.toMatch(/@import/i);
  });

  it('exits 2 on a usage error or a login without the analyst rights, 1 before any transform', async () => {
    const bad = await report(db.env, ['--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^report: .*bogus[\s\S]*usage: report/);
    const denied = await report(envAs(db, logins[1]!, password), ['--out', join(out, 'denied')]);
    expect(denied.code).toBe(2);
    expect(denied.stderr).toMatch(/^report: this login may not read features\.customer_features, .*grant analyst/);
    const empty = await freshDatabase();
    const none = await report(empty.env, ['--out', join(out, 'empty')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^report: features\.customer_features, .* not found: run the migrations and a transform first/);
    expect(existsSync(join(out, 'denied'))).toBe(false);
  });
});

describe('report in a real browser', () => {
  const hasBrowser = existsSync(CHROMIUM);
  if (!hasBrowser) console.warn(`report: real-browser test SKIPPED: ${CHROMIUM} not found (apt-get install chromium); .ci/run installs it and fails when this test is skipped`);

  it.skipIf(!hasBrowser)('real browser: headless Chromium, network disabled, loads without console errors or requests; every chart has drawn marks', async () => {
    const { chromium } = await import('playwright-core');
    const profile = await mkdtemp(join(tmpdir(), 'report-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      offline: true,
      viewport: { width: 1100, height: 1300 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const fileUrl = pathToFileURL(join(out, 'index.html')).href;
      const requests: string[] = [];
      const blocked: string[] = [];
      const errors: string[] = [];
      await context.route('**/*', (route) => {
        if (route.request().url() === fileUrl) return route.continue();
        blocked.push(route.request().url());
        return route.abort();
      });
      const page = await context.newPage();
      page.on('request', (r) => requests.push(r.url()));
      page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(fileUrl, { waitUntil: 'load' });
      expect(errors).toEqual([]);
      expect(blocked).toEqual([]);
      expect(requests).toEqual([fileUrl]);
      // marks: the elements vega drew for data rows (inside mark groups, not axes, legends or titles), with a size
      const marks = await page.evaluate(() =>
        Object.fromEntries([...document.querySelectorAll('figure[data-chart]')].map((f) => {
          const drawn = [...f.querySelectorAll('g.role-mark > *')].filter((el) => {
            const box = (el as SVGGraphicsElement).getBoundingClientRect();
            return box.width > 0 || box.height > 0;
          });
          return [(f as HTMLElement).dataset.chart!, drawn.length];
        })),
      );
      const n = async (sql: string) => Number((await db.pool.query(sql)).rows[0].n);
      const minimum: Record<string, number> = {
        daily: 2 * (await n('select count(*) as n from features.daily_sales')), // revenue and orders bars per day (a day without returns draws a 0-height bar)
        cohorts: await n('select count(*) as n from features.customer_cohorts'),
        rfm: await n('select count(distinct (r_score, f_score)) as n from features.customer_features'),
        products: 20,
        quality: await n('select count(*) as n from meta.transform_loads where rows_duplicate > 0 or rows_quarantined > 0'),
        runs: await n(`select count(*) as n from meta.transform_runs where status <> 'running'`),
        files: await n(`select jsonb_array_length(files) as n from meta.transform_runs where status = 'complete' order by run_id desc limit 1`),
      };
      expect(Object.keys(marks).sort()).toEqual(Object.keys(minimum).sort());
      for (const [chart, min] of Object.entries(minimum)) {
        expect(min, chart).toBeGreaterThan(1);
        expect(marks[chart], chart).toBeGreaterThanOrEqual(min);
      }
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
      await page.screenshot({ path: join(ARTIFACTS, 'report-top.png') });
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    }
  });
});
