/**
 * npm run bench -- --suite report [--rows bundled,1000000] [--reps 3] [--seed 1]: the time of
 * `npm run report` on a transformed database, split into its queries, its chart rendering and the
 * file write (the report's own --json timings), plus the whole command's wall time (Node start, imports).
 * Each size gets a fresh database: migrate, load (the bundled files, or one generated file), transform.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { $ } from 'zx';

import { UserError } from '../errors.js';
import { parseCount } from '../generate/options.js';
import { bundledDataDir, projectRoot } from '../paths.js';
import { renderReport } from '../report/index.js';
import { shapedData } from './report-shape.js';
import { openBenchServer } from './server.js';
import { median } from './stats.js';

export const REPORT_BENCH_USAGE = `usage: npm run bench -- --suite report [--rows bundled,1000000] [--reps 3] [--seed 1]
  --rows LIST  datasets, comma-separated: bundled (the 305 bundled files), generated row counts (1000000, 1e6, 4M),
               render:N (no database: only the chart rendering, on data shaped like N generated rows)
  --reps N     report runs per dataset (default 3; the median is reported)
  --seed S     generator seed (default 1)`;

interface Timing { wall_ms: number; query_ms: number; render_ms: number; write_ms: number; bytes: number }

function parse(argv: string[]) {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { rows: { type: 'string' }, reps: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n${REPORT_BENCH_USAGE}`);
  }
  const rows = (values.rows ?? 'bundled,1000000').split(',').map((s) => s.trim()).filter(Boolean).map((s) => (s === 'bundled' ? 'bundled' : s.startsWith('render:') ? `render:${parseCount('rows', s.slice(7))}` : parseCount('rows', s)));
  return { rows, reps: values.reps ? parseCount('reps', values.reps) : 3, seed: values.seed ? parseCount('seed', values.seed) : 1, help: values.help ?? false };
}

/** the chart rendering alone (in this process, no database), on data shaped like `rows` generated rows */
async function renderOnly(rows: number, reps: number) {
  const data = shapedData(rows);
  const samples = [];
  for (let rep = 0; rep < reps; rep++) {
    const t = performance.now();
    const { html } = await renderReport(data);
    samples.push({ render_ms: Math.round(performance.now() - t), bytes: Buffer.byteLength(html) });
  }
  const row = { dataset: `render:${rows}`, days: data.daily.length, cohort_cells: data.cohorts.length, reps, load_average: loadavg().map((x) => Number(x.toFixed(2))), median: { render_ms: median(samples.map((s) => s.render_ms)), bytes: median(samples.map((s) => s.bytes)) }, samples };
  console.log(`render only, data shaped like ${rows.toLocaleString('en-US')} generated rows (${data.daily.length} days, ${data.cohorts.length} cohort cells): charts and page ${row.median.render_ms} ms (median of ${reps}); ${(row.median.bytes / 1024).toFixed(0)} KiB; load average ${row.load_average.join(' ')}`);
  return row;
}

export async function runReportBench(argv: string[]): Promise<void> {
  const args = parse(argv);
  if (args.help) return void console.log(REPORT_BENCH_USAGE);
  $.verbose = false;
  $.cwd = projectRoot;
  const node = process.execPath;
  const server = await openBenchServer();
  const work = mkdtempSync(join(tmpdir(), 'bench-report-'));
  const results = [];
  try {
    for (const size of args.rows) {
      if (typeof size === 'string' && size.startsWith('render:')) {
        results.push(await renderOnly(Number(size.slice(7)), args.reps));
        continue;
      }
      const db = await server.create();
      try {
        const env = server.env(db);
        const t = Date.now();
        await $({ env })`${node} dist/loader/cli/migrate.js`;
        let source = bundledDataDir;
        if (size !== 'bundled') {
          source = join(work, `report-${size}.csv`);
          await $`${node} dist/scripts/generate.js --quiet --rows ${size} --seed ${args.seed} --out ${source}`;
        }
        await $({ env })`${node} dist/loader/cli/load.js --quiet ${source}`;
        await $({ env })`${node} dist/loader/cli/transform.js --quiet`;
        const coreRows = Number((await server.sql(db, 'select count(*) as n from core.transactions')).rows[0].n);
        console.log(`${size === 'bundled' ? 'bundled data' : `${size.toLocaleString('en-US')} generated rows`}: ${coreRows.toLocaleString('en-US')} core rows ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);
        const samples: Timing[] = [];
        for (let rep = 0; rep < args.reps; rep++) {
          const started = performance.now();
          const out = await $({ env })`${node} dist/loader/cli/report.js --json --out ${join(work, 'out')}`;
          const wall = performance.now() - started;
          const s = JSON.parse(out.stdout) as Timing;
          samples.push({ wall_ms: Math.round(wall), query_ms: s.query_ms, render_ms: s.render_ms, write_ms: s.write_ms, bytes: s.bytes });
        }
        const med = (k: keyof Timing) => median(samples.map((s) => s[k]));
        const row = { dataset: size, core_rows: coreRows, reps: args.reps, load_average: loadavg().map((x) => Number(x.toFixed(2))), median: { wall_ms: med('wall_ms'), query_ms: med('query_ms'), render_ms: med('render_ms'), write_ms: med('write_ms'), bytes: med('bytes') }, samples };
        results.push(row);
        console.log(`  report (median of ${args.reps}): wall ${row.median.wall_ms} ms = queries ${row.median.query_ms} ms + charts ${row.median.render_ms} ms + write ${row.median.write_ms} ms + Node start/imports; ${(row.median.bytes / 1024).toFixed(0)} KiB; load average ${row.load_average.join(' ')}`);
      } finally {
        await server.drop(db);
      }
    }
    const dir = join(projectRoot, 'bench-results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `bench-report-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ suite: 'report', postgres: server.version, node: process.version, results }, null, 2));
    console.log(`results: ${file}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    await server.close();
  }
}
