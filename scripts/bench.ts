/**
 * npm run bench — the pipeline against psql \copy (the floor) and pgloader, on generated files.
 * Orchestration only: generate, then per size and repetition run the contenders in rotated order,
 * each on a fresh database; print the table and write bench-results/bench-<time>.json.
 * Timed commands: psql -c "\copy …", pgloader <command file>, node dist/loader/cli/load.js <file>
 * (what `npm run load` runs), node dist/loader/cli/transform.js --full, and the incremental
 * node dist/loader/cli/transform.js after loading one more day.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';

import { $, which } from 'zx';

import { runMain } from '../loader/cli/main.js';
import { UserError } from '../loader/errors.js';
import { openBenchServer } from '../loader/bench/server.js';
import { DAY_STEPS, PGLOADER_ONE_RUN_SECONDS, StepError, cli, pgloader, pipeline, psqlCopy, type Contender, type PipelineFiles, type Step } from '../loader/bench/steps.js';
import { BENCH_USAGE, goalLines, goals, incrementalExponent, pairRatio, parseBenchArgs, rotation, scaling, suiteOf, summarize, table, type Row, type Sample } from '../loader/bench/stats.js';
import { dayOf, isoDay } from '../loader/generate/calendar.js';
import type { Manifest } from '../loader/generate/manifest.js';
import { projectRoot } from '../loader/paths.js';

$.verbose = false;
$.cwd = projectRoot;
const node = process.execPath;

async function tool(name: string, versionArgs: string[]): Promise<string | null> {
  const path = await which(name, { nothrow: true });
  if (!path) return null;
  const out = await $`${path} ${versionArgs}`.nothrow();
  return (out.stdout || out.stderr).trim().split('\n')[0] ?? name;
}

interface Generated extends PipelineFiles { dayRows: number }

async function generate(rows: number, seed: number, dir: string): Promise<Generated> {
  const file = join(dir, `bench-${rows}-s${seed}.csv`);
  const dayFile = join(dir, `bench-${rows}-s${seed}.next-day.csv`);
  const lateFile = join(dir, `bench-${rows}-s${seed}.late-day.csv`);
  const t = Date.now();
  await $`${node} dist/scripts/generate.js --quiet --rows ${rows} --seed ${seed} --out ${file}`;
  const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as Manifest;
  const next = isoDay(dayOf(manifest.last_date!) + 1);
  // an old day: the middle of the history, other rows (another seed) than the history's own for that day
  const middle = isoDay(Math.floor((dayOf(manifest.first_date!) + dayOf(manifest.last_date!)) / 2));
  await $`${node} dist/scripts/generate.js --quiet --from ${next} --days 1 --seed ${seed} --out ${dayFile}`;
  await $`${node} dist/scripts/generate.js --quiet --from ${middle} --days 1 --seed ${seed + 1} --out ${lateFile}`;
  const read = (f: string) => JSON.parse(readFileSync(`${f}.manifest.json`, 'utf8')) as Manifest;
  const [dayManifest, lateManifest] = [read(dayFile), read(lateFile)];
  console.log(`generated ${rows.toLocaleString('en-US')} rows (${manifest.first_date} .. ${manifest.last_date}), the next day ${dayManifest.first_date} (${dayManifest.expected.rows_read.toLocaleString('en-US')} rows) and a late old day ${middle} (${lateManifest.expected.rows_read.toLocaleString('en-US')} rows) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return { file, manifest, dayFile, dayManifest, lateFile, lateManifest, dayRows: dayManifest.expected.rows_read };
}

runMain('bench', async () => {
  // --suite NAME: a part's own benchmark, in its own module (loaded only for it)
  const suite = suiteOf(process.argv.slice(2));
  if (suite) {
    if (suite.suite === 'report') return (await import('../loader/bench/report.js')).runReportBench(suite.rest);
    if (suite.suite === 'json') return (await import('../loader/bench/json.js')).runJsonBench(suite.rest);
    if (suite.suite === 'training') return (await import('../loader/bench/training.js')).runTrainingBench(suite.rest);
    throw new UserError(`--suite takes report, json or training, got "${suite.suite}"`);
  }
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.help) return void console.log(BENCH_USAGE);
  const resultsDir = join(projectRoot, 'bench-results');
  const dataDir = args.dataDir ?? join(resultsDir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const psql = await tool('psql', ['--version']);
  const pgl = await tool('pgloader', ['--version']);
  const hasLoad = existsSync(cli('load'));
  const hasTransform = existsSync(cli('transform'));
  const server = await openBenchServer();
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    nproc: availableParallelism(),
    memoryGb: Number((totalmem() / 2 ** 30).toFixed(1)),
    postgres: server.version,
    server: server.describe,
    node: process.version,
    psql: psql ?? 'not installed',
    pgloader: pgl ?? 'not installed',
  };
  console.log(`bench on ${machine.cpu}, ${machine.nproc} CPUs, ${machine.memoryGb} GB; ${machine.postgres.split(' on ')[0]} (${machine.server})`);
  const results = [];
  try {
    for (const rows of args.rows) {
      const gen = await generate(rows, args.seed, dataDir);
      const samples: Record<Step, Sample[]> = { 'psql \\copy': [], pgloader: [], 'npm run load': [], 'transform --full': [], 'transform (incremental, +1 day)': [], 'transform (late old day)': [], 'transform (--force of a day)': [] };
      const notes: Partial<Record<Step, string>> = {};
      if (!psql) notes['psql \\copy'] = 'not installed';
      if (args.skip.includes('psql')) notes['psql \\copy'] = 'skipped (--skip)';
      if (args.skip.includes('pgloader')) notes.pgloader = 'skipped (--skip)';
      const transforms: Step[] = ['transform --full', ...DAY_STEPS];
      const note = (steps: Step[], text: string) => steps.forEach((st) => (notes[st] = text));
      if (args.skip.includes('load')) note(['npm run load', ...transforms], 'skipped (--skip)');
      if (args.skip.includes('transform')) note(transforms, 'skipped (--skip)');
      if (!pgl) notes.pgloader = 'not installed';
      if (!hasLoad) notes['npm run load'] = 'not available (no dist/loader/cli/load.js)';
      if (!hasTransform) note(transforms, 'not available (no dist/loader/cli/transform.js)');
      const contenders = (['psql \\copy', 'npm run load', 'pgloader'] as Contender[]).filter((c) => !notes[c]);
      for (let rep = 0; rep < args.reps; rep++) {
        for (const c of rotation(contenders, rep)) {
          if (notes[c]) continue; // failed earlier in this size
          if (c === 'pgloader' && samples.pgloader.length > 0 && samples.pgloader[0]!.seconds > PGLOADER_ONE_RUN_SECONDS) continue;
          try {
            if (c === 'psql \\copy') samples[c].push({ ...(await psqlCopy(server, gen.file, rows)), rep });
            else if (c === 'pgloader') samples[c].push({ ...(await pgloader(server, gen.file, rows, dataDir)), rep });
            else {
              const p = await pipeline(server, gen, hasTransform && !notes['transform --full']);
              samples[c].push({ ...p.load, rep });
              if (p.full) samples['transform --full'].push({ ...p.full, rep });
              if (p.incremental) samples['transform (incremental, +1 day)'].push({ ...p.incremental, rep });
              if (p.late) samples['transform (late old day)'].push({ ...p.late, rep });
              if (p.force) samples['transform (--force of a day)'].push({ ...p.force, rep });
              if (p.error) note(transforms, `failed: ${p.error}`);
            }
            const last = samples[c].at(-1)!;
            const t = (st: Step) => samples[st].at(-1)?.seconds.toFixed(2) ?? '-';
            console.log(`  ${rows.toLocaleString('en-US')} rows, run ${rep + 1}/${args.reps}: ${c} ${last.seconds.toFixed(2)} s` + (c === 'npm run load' && samples['transform --full'].length > rep ? `, transform --full ${t('transform --full')} s, +1 day ${t('transform (incremental, +1 day)')} s, late old day ${t('transform (late old day)')} s, --force of a day ${t('transform (--force of a day)')} s` : ''));
          } catch (err) {
            if (!(err instanceof StepError)) throw err;
            notes[c] = `failed: ${err.message}`;
            console.log(`  ${c}: ${notes[c]}`);
          }
        }
      }
      const floor = summarize(samples['psql \\copy'])?.median ?? null;
      const steps = Object.keys(samples) as Step[];
      const tableRows: Row[] = steps.map((s) => ({ contender: s, rows: DAY_STEPS.includes(s) ? (s === 'transform (late old day)' ? gen.lateManifest.expected.rows_read : gen.dayRows) : rows, summary: notes[s]?.startsWith('failed') ? null : summarize(samples[s]), pairRatio: DAY_STEPS.includes(s) ? null : pairRatio(samples[s], samples['psql \\copy']), note: notes[s] }));
      console.log(`\n${rows.toLocaleString('en-US')} rows (${(gen.manifest.expected.rows_read / 1).toLocaleString('en-US')} records, ${args.reps} run(s) each, alternated; incremental: ${gen.dayRows.toLocaleString('en-US')} rows onto the history)\n${table(tableRows, floor)}\n`);
      const reached = goals(tableRows, floor, {
        incrementalOfFull: pairRatio(samples['transform (incremental, +1 day)'], samples['transform --full']),
        lateOfIncremental: pairRatio(samples['transform (late old day)'], samples['transform (incremental, +1 day)']),
        forceOfIncremental: pairRatio(samples['transform (--force of a day)'], samples['transform (incremental, +1 day)']),
      });
      console.log(`goals at ${rows.toLocaleString('en-US')} rows (ratios: median of the pairs with psql):\n${goalLines(reached)}\n`);
      results.push({ rows, dayRows: gen.dayRows, floorSeconds: floor, steps: tableRows, goals: reached, samples, notes });
      if (!args.keep) for (const f of [gen.file, gen.dayFile, gen.lateFile]) for (const x of [f, `${f}.manifest.json`]) rmSync(x, { force: true });
    }
  } finally {
    await server.close();
  }
  const growth = scaling(results.map((r) => ({ rows: r.rows, steps: r.steps })));
  if (growth) console.log(`scaling with the file size (the day steps add one day at every size: their exponent shows how they grow with the history)\n${growth}\n`);
  const exponent = incrementalExponent(results.map((r) => ({ rows: r.rows, steps: r.steps })));
  if (exponent) console.log(`goal across sizes:\n${goalLines([exponent])}\n`);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const out = join(resultsDir, `bench-${stamp}.json`);
  const report = { at: new Date().toISOString(), command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(), machine, timed: {
    'psql \\copy': 'psql -X -q -v ON_ERROR_STOP=1 -c "\\copy t from FILE with (format csv, header true)" into a fresh eight-text-column table',
    pgloader: 'pgloader --quiet CMD (LOAD CSV … INTO …?tablename=t, same table)',
    'npm run load': 'node dist/loader/cli/load.js FILE on a fresh migrated database',
    'transform --full': 'node dist/loader/cli/transform.js --full right after that load',
    'transform (incremental, +1 day)': 'node dist/loader/cli/load.js DAYFILE (untimed), then node dist/loader/cli/transform.js',
    'transform (late old day)': 'a day inside the history, loaded before the full transform (untimed) but hidden as failed until after the +1 day; then complete again and node dist/loader/cli/transform.js',
    'transform (--force of a day)': 'node dist/loader/cli/load.js --force DAYFILE (untimed), then node dist/loader/cli/transform.js',
  }, results };
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  console.log(`figures written to ${out}`);
});
