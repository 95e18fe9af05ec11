/**
 * npm run bench -- --suite training: the training set's cost on a generated history (default 1M rows),
 * measured in one run against a full refresh of features.customer_features on the same database.
 * Figures (median of --reps): refresh; one cutoff (the latest of twelve monthly cutoffs: the most
 * history); twelve monthly cutoffs, one query each; fetching the twelve cutoffs' rows through the
 * cursor (the CLI's query part) vs writing them to Parquet and CSV; the CLI's peak memory for 1 and
 * 12 cutoffs. Goals: one cutoff <= 2x refresh, twelve <= 12x one, Parquet adds <= 30 % to the query.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import pg from 'pg';
import Cursor from 'pg-cursor';

import { openDatabase, type Database } from '../db.js';
import { UserError } from '../errors.js';
import type { Manifest } from '../generate/manifest.js';
import { projectRoot } from '../paths.js';
import { exportTrainingSet, TRAINING_SET_SQL } from '../training/export.js';
import { measure } from './measure.js';
import { openBenchServer } from './server.js';
import { cli } from './steps.js';

export const TRAINING_USAGE = `usage: npm run bench -- --suite training [--rows 1000000] [--reps 3] [--seed 1] [--horizon-days 90] [--data-dir DIR] [--keep]`;

const node = process.execPath;
const HORIZON_DEFAULT = 90;

function parse(argv: string[]) {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: {
      rows: { type: 'string' }, reps: { type: 'string' }, seed: { type: 'string' }, 'horizon-days': { type: 'string' },
      'data-dir': { type: 'string' }, keep: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
    } }));
  } catch (err) {
    throw new UserError(`${(err as Error).message.split('\n')[0]}; ${TRAINING_USAGE}`);
  }
  const count = (name: string, v: string | undefined, d: number) => {
    const n = v === undefined ? d : Number(v.replace(/_/g, ''));
    if (!Number.isSafeInteger(n) || n < 1) throw new UserError(`--${name} must be a whole number >= 1, got "${v}"`);
    return n;
  };
  return { rows: count('rows', values.rows, 1_000_000), reps: count('reps', values.reps, 3), seed: count('seed', values.seed, 1),
    horizon: count('horizon-days', values['horizon-days'], HORIZON_DEFAULT), dataDir: values['data-dir'], keep: values.keep, help: values.help };
}

/** the first day of each of the last `n` months that start after `first` and not after `last` */
export function monthlyCutoffs(first: string, last: string, n: number): string[] {
  const out: string[] = [];
  let [y, m] = [Number(last.slice(0, 4)), Number(last.slice(5, 7))];
  while (out.length < n) {
    const day = `${y}-${String(m).padStart(2, '0')}-01`;
    if (day <= first) break;
    out.unshift(day);
    [y, m] = m === 1 ? [y - 1, 12] : [y, m - 1];
  }
  return out;
}

type Step = 'refresh' | 'one' | 'twelve' | 'fetch' | 'parquet' | 'csv';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

const asText = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

/** the CLI's query part: every row of every cutoff through the cursor, as text, then dropped */
async function fetchAll(db: Database, cutoffs: string[], horizon: number): Promise<number> {
  const c = await db.pool.connect();
  let rows = 0;
  try {
    await c.query('begin isolation level repeatable read read only');
    for (const cutoff of cutoffs) {
      const cursor = c.query(new Cursor(TRAINING_SET_SQL, [cutoff, horizon], { rowMode: 'array', types: asText }));
      for (let b = await cursor.read(10_000); b.length; b = await cursor.read(10_000)) rows += b.length;
      await cursor.close();
    }
    await c.query('commit');
  } finally {
    c.release();
  }
  return rows;
}

export async function runTrainingBench(argv: string[]): Promise<void> {
  const a = parse(argv);
  if (a.help) return void console.log(TRAINING_USAGE);
  const resultsDir = join(projectRoot, 'bench-results');
  const dataDir = a.dataDir ?? join(resultsDir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, `bench-${a.rows}-s${a.seed}.csv`);
  const gen = await measure(node, [join(projectRoot, 'dist', 'scripts', 'generate.js'), '--quiet', '--rows', String(a.rows), '--seed', String(a.seed), '--out', file], process.env);
  if (gen.exitCode !== 0) throw new UserError(`generate failed: ${gen.stderr.trim()}`, 1);
  const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as Manifest;
  const server = await openBenchServer();
  const name = await server.create();
  const env = server.env(name);
  const outDir = join(dataDir, `training-${name}`);
  mkdirSync(outDir, { recursive: true });
  let db: Database | undefined;
  try {
    for (const [what, args] of [['migrate', []], ['load', [file]], ['transform', ['--full']]] as const) {
      const m = await measure(node, [cli(what), ...args], env);
      if (m.exitCode !== 0) throw new UserError(`${what} failed: ${(m.stderr || m.stdout).trim().split('\n').at(-1)}`, 1);
    }
    db = await openDatabase({ env });
    const coreRows = Number((await db.pool.query('select count(*) as n from core.transactions')).rows[0].n);
    const cutoffs = monthlyCutoffs(manifest.first_date!, manifest.last_date!, 12);
    const one = cutoffs.at(-1)!;
    console.log(`training bench: ${coreRows.toLocaleString('en-US')} core rows (${manifest.first_date} .. ${manifest.last_date}), ${cutoffs.length} monthly cutoffs ${cutoffs[0]} .. ${one}, horizon ${a.horizon} days, ${a.reps} reps`);
    const samples: Record<Step, number[]> = { refresh: [], one: [], twelve: [], fetch: [], parquet: [], csv: [] };
    const perCutoff: number[][] = [];
    let rows = 0;
    for (let rep = 0; rep < a.reps; rep++) {
      samples.refresh.push(await timed(() => db!.pool.query('refresh materialized view features.customer_features')));
      samples.one.push(await timed(() => db!.pool.query('select count(*) from features.training_set($1::date, $2::integer)', [one, a.horizon])));
      const each: number[] = [];
      for (const c of cutoffs) each.push(await timed(() => db!.pool.query('select count(*) from features.training_set($1::date, $2::integer)', [c, a.horizon])));
      perCutoff.push(each);
      samples.twelve.push(each.reduce((s, x) => s + x, 0));
      samples.fetch.push(await timed(async () => (rows = await fetchAll(db!, cutoffs, a.horizon))));
      for (const format of ['parquet', 'csv'] as const) {
        samples[format].push(await timed(() => exportTrainingSet(db!, { cutoffs, horizonDays: a.horizon, out: join(outDir, `set.${format}`), format })));
      }
      console.log(`  run ${rep + 1}/${a.reps}: ${Object.entries(samples).map(([k, v]) => `${k} ${v.at(-1)!.toFixed(2)} s`).join(', ')}`);
    }
    const cliRun = async (cs: string[]) => {
      const m = await measure(node, [cli('training-set'), ...cs.flatMap((c) => ['--cutoff', c]), '--horizon-days', String(a.horizon), '--out', join(outDir, 'cli.parquet'), '--quiet'], env);
      if (m.exitCode !== 0) throw new UserError(`training-set failed: ${m.stderr.trim()}`, 1);
      return { seconds: Number(m.seconds.toFixed(2)), peakRssMb: m.peakRssMb === null ? null : Math.round(m.peakRssMb) };
    };
    const cliOne = await cliRun([one]);
    const cliTwelve = await cliRun(cutoffs);
    const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<Step, number>;
    const goals = {
      'one cutoff / refresh (<= 2)': med.one / med.refresh,
      'twelve cutoffs / (12 x one) (<= 1)': med.twelve / (cutoffs.length * med.one),
      'Parquet: write / query - 1 (<= 0.30)': med.parquet / med.fetch - 1,
      'CSV: write / query - 1': med.csv / med.fetch - 1,
    };
    console.log(`\nmedians (s): ${Object.entries(med).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}; ${rows.toLocaleString('en-US')} rows for ${cutoffs.length} cutoffs`);
    console.log(`per cutoff (s, median): ${cutoffs.map((c, i) => `${c} ${median(perCutoff.map((p) => p[i]!)).toFixed(2)}`).join(', ')}`);
    console.log(`CLI (Parquet): 1 cutoff ${cliOne.seconds} s, peak ${cliOne.peakRssMb} MB; ${cutoffs.length} cutoffs ${cliTwelve.seconds} s, peak ${cliTwelve.peakRssMb} MB`);
    for (const [k, v] of Object.entries(goals)) console.log(`  ${k}: ${v.toFixed(2)}`);
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    const report = { at: new Date().toISOString(), command: `npm run bench -- --suite training ${argv.join(' ')}`.trim(), server: server.describe, version: server.version,
      rows: a.rows, coreRows, cutoffs, horizonDays: a.horizon, trainingRows: rows, samples, perCutoff, medians: med, goals, cli: { one: cliOne, twelve: cliTwelve } };
    const out = join(resultsDir, `training-${stamp}.json`);
    writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
    console.log(`figures written to ${out}`);
  } finally {
    await db?.close();
    await server.drop(name);
    await server.close();
    rmSync(outDir, { recursive: true, force: true });
    if (!a.keep) for (const f of [file, `${file}.manifest.json`]) rmSync(f, { force: true });
  }
}
