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
import { CHANGED_SUMMARY_FILE, DAY_STEPS, PGLOADER_ONE_RUN_SECONDS, StepError, cli, pgloader, pipeline, psqlCopy, runLabel, type Contender, type PipelineFiles, type Shape, type Step } from '../loader/bench/steps.js';
import { BENCH_USAGE, goalLines, goals, incrementalExponent, pairRatio, parseBenchArgs, rotation, scaling, stageLine, suiteOf, summarize, table, type Row, type Sample } from '../loader/bench/stats.js';
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

interface Generated extends PipelineFiles { dayRows: number; days: string; daysManifest: Manifest }

async function generate(rows: number, seed: number, dir: string, shapes: Shape[]): Promise<Generated> {
  const file = join(dir, `bench-${rows}-s${seed}.csv`);
  const days = join(dir, `bench-${rows}-s${seed}.days`);
  const dayFile = join(dir, `bench-${rows}-s${seed}.next-day.csv`);
  const lateFile = join(dir, `bench-${rows}-s${seed}.late-day.csv`);
  const t = Date.now();
  // the same seed, the same rows: as one file, and as one file a day (a load a day, as shops deliver them)
  await $`${node} dist/scripts/generate.js --quiet --rows ${rows} --seed ${seed} --out ${file}`;
  if (shapes.includes('daily files')) {
    rmSync(days, { recursive: true, force: true });
    await $`${node} dist/scripts/generate.js --quiet --rows ${rows} --seed ${seed} --split-by-day ${days}`;
  }
  const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as Manifest;
  const daysManifest = shapes.includes('daily files') ? (JSON.parse(readFileSync(`${days}.manifest.json`, 'utf8')) as Manifest) : manifest;
  const next = isoDay(dayOf(manifest.last_date!) + 1);
  // an old day: the middle of the history, other rows (another seed) than the history's own for that day
  const middle = isoDay(Math.floor((dayOf(manifest.first_date!) + dayOf(manifest.last_date!)) / 2));
  await $`${node} dist/scripts/generate.js --quiet --from ${next} --days 1 --seed ${seed} --out ${dayFile}`;
  await $`${node} dist/scripts/generate.js --quiet --from ${middle} --days 1 --seed ${seed + 1} --out ${lateFile}`;
  const read = (f: string) => JSON.parse(readFileSync(`${f}.manifest.json`, 'utf8')) as Manifest;
  const [dayManifest, lateManifest] = [read(dayFile), read(lateFile)];
  console.log(`generated ${rows.toLocaleString('en-US')} rows (${manifest.first_date} .. ${manifest.last_date}${shapes.includes('daily files') ? `; also as ${daysManifest.file_count ?? '?'} daily files` : ''}), the next day ${dayManifest.first_date} (${dayManifest.expected.rows_read.toLocaleString('en-US')} rows) and a late old day ${middle} (${lateManifest.expected.rows_read.toLocaleString('en-US')} rows) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return { file, manifest, days, daysManifest, dayFile, dayManifest, lateFile, lateManifest, dayRows: dayManifest.expected.rows_read };
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
  const results: { rows: number; shape: Shape; steps: Row[]; [more: string]: unknown }[] = [];
  type ShapeSamples = Record<Step, Sample[]>;
  const emptySamples = (): ShapeSamples => ({ 'psql \\copy': [], pgloader: [], 'npm run load': [], 'transform --full': [], 'transform (incremental, +1 day)': [], 'transform (late old day)': [], 'transform (--force of a day)': [], 'transform (a summary file changed)': [] });
  try {
    for (const rows of args.rows) {
      const gen = await generate(rows, args.seed, dataDir, args.shapes);
      const loadsOf = (shape: Shape) => (shape === 'one file' ? 1 : (gen.daysManifest.file_count ?? 0));
      const filesOf = (shape: Shape): PipelineFiles => (shape === 'one file' ? gen : { ...gen, file: gen.days, manifest: gen.daysManifest });
      // psql and pgloader: the floor, of the same rows in one file; then our pipeline on each shape
      const floorSamples = emptySamples();
      const bySamples = new Map<Shape, ShapeSamples>(args.shapes.map((sh) => [sh, emptySamples()]));
      const fullStages = new Map<Shape, Record<string, number>[]>(args.shapes.map((sh) => [sh, []]));
      const notes: Partial<Record<Step, string>> = {};
      const shapeNotes = new Map<Shape, Partial<Record<Step, string>>>(args.shapes.map((sh) => [sh, {}]));
      if (!psql) notes['psql \\copy'] = 'not installed';
      if (args.skip.includes('psql')) notes['psql \\copy'] = 'skipped (--skip)';
      if (args.skip.includes('pgloader')) notes.pgloader = 'skipped (--skip)';
      if (!pgl) notes.pgloader = 'not installed';
      const transforms: Step[] = ['transform --full', ...DAY_STEPS, 'transform (a summary file changed)'];
      const note = (into: Partial<Record<Step, string>>, steps: Step[], text: string) => steps.forEach((st) => (into[st] = text));
      for (const sh of args.shapes) {
        const n = shapeNotes.get(sh)!;
        if (args.skip.includes('load')) note(n, ['npm run load', ...transforms], 'skipped (--skip)');
        if (args.skip.includes('transform')) note(n, transforms, 'skipped (--skip)');
        if (!hasLoad) n['npm run load'] = 'not available (no dist/loader/cli/load.js)';
        if (!hasTransform) note(n, transforms, 'not available (no dist/loader/cli/transform.js)');
      }
      type Run = { kind: 'floor'; c: Contender } | { kind: 'pipeline'; shape: Shape };
      const runs: Run[] = [
        ...(['psql \\copy', 'pgloader'] as Contender[]).filter((c) => !notes[c]).map((c) => ({ kind: 'floor' as const, c })),
        ...args.shapes.filter((sh) => !shapeNotes.get(sh)!['npm run load']).map((shape) => ({ kind: 'pipeline' as const, shape })),
      ];
      for (let rep = 0; rep < args.reps; rep++) {
        for (const r of rotation(runs, rep)) {
          try {
            if (r.kind === 'floor') {
              if (notes[r.c]) continue; // failed earlier in this size
              if (r.c === 'pgloader' && floorSamples.pgloader.length > 0 && floorSamples.pgloader[0]!.seconds > PGLOADER_ONE_RUN_SECONDS) continue;
              const sample = r.c === 'psql \\copy' ? await psqlCopy(server, gen.file, rows) : await pgloader(server, gen.file, rows, dataDir);
              floorSamples[r.c].push({ ...sample, rep });
              console.log(`  ${rows.toLocaleString('en-US')} rows, run ${rep + 1}/${args.reps}: ${r.c} ${sample.seconds.toFixed(2)} s (one file)`);
              continue;
            }
            const samples = bySamples.get(r.shape)!;
            const n = shapeNotes.get(r.shape)!;
            if (n['npm run load']) continue;
            const p = await pipeline(server, filesOf(r.shape), hasTransform && !n['transform --full'], args.runAs);
            samples['npm run load'].push({ ...p.load, rep });
            if (p.full) samples['transform --full'].push({ ...p.full, rep });
            if (p.fullStages) fullStages.get(r.shape)!.push(p.fullStages);
            if (p.incremental) samples['transform (incremental, +1 day)'].push({ ...p.incremental, rep });
            if (p.late) samples['transform (late old day)'].push({ ...p.late, rep });
            if (p.force) samples['transform (--force of a day)'].push({ ...p.force, rep });
            if (p.summaryChanged) samples['transform (a summary file changed)'].push({ ...p.summaryChanged, rep });
            if (p.error) note(n, transforms, `failed: ${p.error}`);
            const t = (st: Step) => samples[st].at(-1)?.seconds.toFixed(2) ?? '-';
            console.log(`  ${rows.toLocaleString('en-US')} rows, run ${rep + 1}/${args.reps}, ${runLabel(r.shape, args.runAs, loadsOf(r.shape))}: npm run load ${t('npm run load')} s, transform --full ${t('transform --full')} s, +1 day ${t('transform (incremental, +1 day)')} s, late old day ${t('transform (late old day)')} s, --force of a day ${t('transform (--force of a day)')} s, a summary file changed ${t('transform (a summary file changed)')} s`);
          } catch (err) {
            if (!(err instanceof StepError)) throw err;
            const at = r.kind === 'floor' ? notes : shapeNotes.get(r.shape)!;
            const c: Step = r.kind === 'floor' ? r.c : 'npm run load';
            at[c] = `failed: ${err.message}`;
            console.log(`  ${c}${r.kind === 'pipeline' ? ` (${r.shape})` : ''}: ${at[c]}`);
          }
        }
      }
      const floor = summarize(floorSamples['psql \\copy'])?.median ?? null;
      const fullMedians = new Map<Shape, number | null>();
      for (const shape of args.shapes) {
        const samples = { ...bySamples.get(shape)!, 'psql \\copy': floorSamples['psql \\copy'], pgloader: floorSamples.pgloader };
        const n = { ...notes, ...shapeNotes.get(shape)! };
        const steps = Object.keys(samples) as Step[];
        const tableRows: Row[] = steps.map((s) => ({ contender: s, rows: DAY_STEPS.includes(s) ? (s === 'transform (late old day)' ? gen.lateManifest.expected.rows_read : gen.dayRows) : rows, summary: n[s]?.startsWith('failed') ? null : summarize(samples[s]), pairRatio: DAY_STEPS.includes(s) ? null : pairRatio(samples[s], samples['psql \\copy']), note: n[s] }));
        const label = runLabel(shape, args.runAs, loadsOf(shape));
        console.log(`\n${rows.toLocaleString('en-US')} rows, ${label} (${args.reps} run(s) each, alternated; psql and pgloader: the same rows in one file; incremental: ${gen.dayRows.toLocaleString('en-US')} rows onto the history)\n${table(tableRows, floor)}\n`);
        const stages = stageLine(fullStages.get(shape)!);
        if (stages) console.log(`where transform --full's time goes (median of each stage, from meta.transform_runs.files): ${stages}\n`);
        const reached = goals(tableRows, floor, {
          incrementalOfFull: pairRatio(samples['transform (incremental, +1 day)'], samples['transform --full']),
          lateOfIncremental: pairRatio(samples['transform (late old day)'], samples['transform (incremental, +1 day)']),
          forceOfIncremental: pairRatio(samples['transform (--force of a day)'], samples['transform (incremental, +1 day)']),
          summaryChangedOfFull: pairRatio(samples['transform (a summary file changed)'], samples['transform --full']),
        });
        console.log(`goals at ${rows.toLocaleString('en-US')} rows, ${label} (ratios: median of the pairs with psql):\n${goalLines(reached)}\n`);
        fullMedians.set(shape, tableRows.find((t) => t.contender === 'transform --full')?.summary?.median ?? null);
        results.push({ rows, shape, runAs: args.runAs, loads: loadsOf(shape), dayRows: gen.dayRows, floorSeconds: floor, steps: tableRows, goals: reached, samples, notes: n, fullStages: fullStages.get(shape)! });
      }
      const [one, daily] = [fullMedians.get('one file'), fullMedians.get('daily files')];
      if (one && daily) console.log(`goal at ${rows.toLocaleString('en-US')} rows, across shapes:\n${goalLines([{ goal: 'transform --full over daily files ≤ 1.15 × over one file (medians)', value: `${(daily / one).toFixed(2)} ×`, met: daily / one <= 1.15 }])}\n`);
      if (!args.keep) {
        for (const f of [gen.file, gen.dayFile, gen.lateFile]) for (const x of [f, `${f}.manifest.json`]) rmSync(x, { force: true });
        rmSync(gen.days, { recursive: true, force: true });
        rmSync(`${gen.days}.manifest.json`, { force: true });
      }
    }
  } finally {
    await server.close();
  }
  const byShape = (shape: Shape) => results.filter((r) => r.shape === shape).map((r) => ({ rows: r.rows, steps: r.steps }));
  for (const shape of args.shapes) {
    const growth = scaling(byShape(shape));
    if (growth) console.log(`scaling with the history (${shape}; the day steps add one day at every size: their exponent shows how they grow with the history)\n${growth}\n`);
    const exponent = incrementalExponent(byShape(shape));
    if (exponent) console.log(`goal across sizes (${shape}):\n${goalLines([exponent])}\n`);
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const out = join(resultsDir, `bench-${stamp}.json`);
  const report = { at: new Date().toISOString(), command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(), machine, timed: {
    'psql \\copy': 'psql -X -q -v ON_ERROR_STOP=1 -c "\\copy t from FILE with (format csv, header true)" into a fresh eight-text-column table',
    pgloader: 'pgloader --quiet CMD (LOAD CSV … INTO …?tablename=t, same table)',
    'npm run load': 'node dist/loader/cli/load.js FILE|DIR on a fresh migrated database (migrate as the superuser; load as the loader login of docker/service-roles.sh unless --as superuser)',
    'transform --full': 'node dist/loader/cli/transform.js --full right after that load, as the transform login of docker/service-roles.sh (acting as transformer) unless --as superuser',
    'transform (incremental, +1 day)': 'node dist/loader/cli/load.js DAYFILE (untimed), then node dist/loader/cli/transform.js',
    'transform (late old day)': 'a day inside the history, loaded before the full transform (untimed) but hidden as failed until after the +1 day; then complete again and node dist/loader/cli/transform.js',
    'transform (--force of a day)': 'node dist/loader/cli/load.js --force DAYFILE (untimed), then node dist/loader/cli/transform.js',
    'transform (a summary file changed)': `sql/ copied, a comment appended to sql/${CHANGED_SUMMARY_FILE} (untimed), then node dist/loader/cli/transform.js --sql-dir COPY: core.products rebuilt from core, nothing else`,
  }, results };
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  console.log(`figures written to ${out}`);
});
