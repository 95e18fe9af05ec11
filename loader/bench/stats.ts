/** Pure helpers of the benchmark: options, summary statistics, the printed table. */
import { parseArgs } from 'node:util';

import { UserError } from '../errors.js';
import { parseCount } from '../generate/options.js';

export interface BenchArgs {
  rows: number[];
  reps: number;
  seed: number;
  /** where the generated files go (deleted at the end unless keep) */
  dataDir?: string;
  keep: boolean;
  /** contenders not to run (psql, pgloader, load, transform) */
  skip: string[];
  /** the shapes of the history: one file, daily files (default both) */
  shapes: ('one file' | 'daily files')[];
  /** who loads and transforms: the service logins (default, as deployed) or the superuser */
  runAs: 'service logins' | 'superuser';
  help: boolean;
}

export const BENCH_USAGE = `usage: npm run bench -- [--rows 1000000,4000000] [--reps 3] [--seed 1] [--data-dir DIR] [--keep]
  --rows LIST     sizes to measure, comma-separated (1000000, 1e6, 4M; 10M on request)
  --reps N        runs per contender, alternated (default 3; the median is reported)
  --seed S        generator seed (default 1)
  --data-dir DIR  where the generated files go (default bench-results/data)
  --keep          keep the generated files (deleted at the end otherwise)
  --skip LIST     contenders not to run, comma-separated: psql, pgloader, load, transform
  --shapes LIST   how the history arrives: one-file, daily (one file, one load, a day); default both
  --as WHO        who loads and transforms: service (the compose stack's logins, made by docker/service-roles.sh
                  after migrate as the superuser; the default, as deployed) or superuser`;

/** `--suite NAME` and the other arguments, or undefined when no suite is named (the loader bench). */
export function suiteOf(argv: string[]): { suite: string; rest: string[] } | undefined {
  const i = argv.findIndex((a) => a === '--suite' || a.startsWith('--suite='));
  if (i < 0) return undefined;
  const inline = argv[i]!.startsWith('--suite=');
  const suite = inline ? argv[i]!.slice('--suite='.length) : argv[i + 1];
  if (!suite) throw new UserError('--suite needs a name (report, json or training)');
  return { suite, rest: [...argv.slice(0, i), ...argv.slice(i + (inline ? 1 : 2))] };
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { rows: { type: 'string' }, reps: { type: 'string' }, seed: { type: 'string' }, 'data-dir': { type: 'string' }, keep: { type: 'boolean' }, skip: { type: 'string' }, shapes: { type: 'string' }, as: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n${BENCH_USAGE}`);
  }
  const rows = (values.rows ?? '1000000,4000000').split(',').filter((s) => s.trim() !== '').map((s) => parseCount('rows', s));
  if (rows.length === 0) throw new UserError('--rows needs at least one size');
  const reps = values.reps === undefined ? 3 : parseCount('reps', values.reps);
  const seed = values.seed === undefined ? 1 : parseCount('seed', values.seed);
  const skip = (values.skip ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of skip) if (!['psql', 'pgloader', 'load', 'transform'].includes(s)) throw new UserError(`--skip takes psql, pgloader, load, transform; got "${s}"`);
  const shapeNames = { 'one-file': 'one file', daily: 'daily files' } as const;
  const shapes = (values.shapes ?? 'one-file,daily').split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    if (!(s in shapeNames)) throw new UserError(`--shapes takes one-file, daily; got "${s}"`);
    return shapeNames[s as keyof typeof shapeNames];
  });
  if (shapes.length === 0) throw new UserError('--shapes needs at least one shape');
  const as = values.as ?? 'service';
  if (as !== 'service' && as !== 'superuser') throw new UserError(`--as takes service or superuser; got "${as}"`);
  return { rows, reps, seed, dataDir: values['data-dir'], keep: values.keep ?? false, skip, shapes, runAs: as === 'service' ? 'service logins' : 'superuser', help: values.help ?? false };
}

export interface Sample {
  seconds: number;
  peakRssMb: number | null;
  /** the repetition it was taken in (pairs it with psql's run of the same repetition) */
  rep?: number;
}

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  peakRssMb: number | null;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * The median over repetitions of (this run ÷ psql's run in the same repetition): runs next to each
 * other share the machine's load of the moment, so this ratio is steadier than a ratio of medians.
 */
export function pairRatio(samples: Sample[], floor: Sample[]): number | null {
  const ratios = samples.flatMap((s) => {
    const f = floor.find((x) => x.rep !== undefined && x.rep === s.rep);
    return f && f.seconds > 0 ? [s.seconds / f.seconds] : [];
  });
  return ratios.length ? median(ratios) : null;
}

export function summarize(samples: Sample[]): Summary | null {
  if (samples.length === 0) return null;
  const secs = samples.map((s) => s.seconds);
  const rss = samples.map((s) => s.peakRssMb).filter((x): x is number => x !== null);
  return { n: samples.length, median: median(secs), min: Math.min(...secs), max: Math.max(...secs), peakRssMb: rss.length ? Math.max(...rss) : null };
}

/** the order of contenders in repetition r: rotated by one each time, so each runs first, then later */
export function rotation<T>(items: readonly T[], r: number): T[] {
  const k = r % Math.max(items.length, 1);
  return [...items.slice(k), ...items.slice(0, k)];
}

export interface Row {
  contender: string;
  /** rows the step processes (for rows/s) */
  rows: number;
  summary: Summary | null;
  /** median of the per-repetition ratios to psql (pairRatio) */
  pairRatio?: number | null;
  /** why there are no figures: "not installed", "not available", an error */
  note?: string;
}

const fmt = (x: number, digits = 2) => x.toFixed(digits);
const thousands = (x: number) => Math.round(x).toLocaleString('en-US');

/** the printed table: median/min/max seconds, rows/s, ratio to the psql floor (of medians, and median of pairs), peak RSS */
export function table(rows: Row[], floor: number | null): string {
  const head = ['contender', 'median s', 'min s', 'max s', 'rows/s', '× psql', '× psql pairs', 'peak RSS MB'];
  const measured = rows.filter((r) => r.summary);
  const body = measured.map((r) => {
    const s = r.summary!;
    return [
      r.contender + (s.n > 1 ? '' : ' (1 run)'),
      fmt(s.median),
      fmt(s.min),
      fmt(s.max),
      thousands(r.rows / s.median),
      floor ? fmt(s.median / floor) : '',
      r.pairRatio == null ? '' : fmt(r.pairRatio),
      s.peakRssMb === null ? '' : fmt(s.peakRssMb, 0),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length), i === 0 ? Math.max(0, ...rows.map((r) => r.contender.length)) : 0));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const missing = rows.filter((r) => !r.summary).map((r) => `${r.contender.padEnd(widths[0]!)}  ${r.note ?? 'n/a'}`);
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line), ...missing].join('\n');
}

/**
 * How each step grows with the size of the file: its median seconds at each size, and the growth
 * exponent between the smallest and the largest size (1.0 = linear, time ∝ rows; 0 = constant).
 */
export function scaling(sizes: { rows: number; steps: Row[] }[]): string {
  if (sizes.length < 2) return '';
  const names = [...new Set(sizes.flatMap((s) => s.steps.map((r) => r.contender)))];
  const head = ['step', ...sizes.map((s) => `median s @ ${s.rows.toLocaleString('en-US')}`), 'growth exponent'];
  const body = names.map((name) => {
    const medians = sizes.map((s) => s.steps.find((r) => r.contender === name)?.summary?.median ?? null);
    const [a, b] = [medians[0], medians.at(-1)];
    const exponent = a && b ? Math.log(b / a) / Math.log(sizes.at(-1)!.rows / sizes[0]!.rows) : null;
    return [name, ...medians.map((x) => (x === null ? '-' : x.toFixed(2))), exponent === null ? '-' : exponent.toFixed(2)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export interface Goal {
  goal: string;
  value: string;
  met: boolean | null;
}

export interface TransformRatios {
  /** +1 day ÷ full rebuild, median of pairs */
  incrementalOfFull?: number | null;
  /** late old day ÷ +1 day */
  lateOfIncremental?: number | null;
  /** --force of a day ÷ +1 day */
  forceOfIncremental?: number | null;
  /** transform after a summary file changed ÷ --full */
  summaryChangedOfFull?: number | null;
}

/**
 * The speed goals of issues 3 and 9 for one size (met: null when not measured). Ratios are the
 * medians of per-repetition pairs when given (pairRatio), else ratios of the medians.
 */
export function goals(rows: Row[], floor: number | null, ratios: TransformRatios = {}): Goal[] {
  const row = (name: string) => rows.find((r) => r.contender === name);
  const get = (name: string) => row(name)?.summary ?? null;
  const load = get('npm run load');
  const full = get('transform --full');
  const inc = get('transform (incremental, +1 day)');
  /** the median of pair ratios when there are pairs, else the ratio of medians */
  const ratio = (name: string, a: Summary | null) => row(name)?.pairRatio ?? (a && floor ? a.median / floor : null);
  const of = (given: number | null | undefined, a: Summary | null, b: Summary | null) => given ?? (a && b ? a.median / b.median : null);
  const out: Goal[] = [];
  const r = ratio('npm run load', load);
  out.push({ goal: 'npm run load ≤ 0.85 × psql \\copy (above 1.0 unacceptable)', value: r === null ? 'not measured' : `${r.toFixed(2)} ×`, met: r === null ? null : r <= 0.85 });
  out.push({ goal: 'npm run load peak RSS ≤ 150 MB', value: load?.peakRssMb == null ? 'not measured' : `${load.peakRssMb.toFixed(0)} MB`, met: load?.peakRssMb == null ? null : load.peakRssMb <= 150 });
  const f = ratio('transform --full', full);
  out.push({ goal: 'transform --full ≤ 5 × psql \\copy of the same rows', value: f === null ? 'not measured' : `${f.toFixed(2)} ×`, met: f === null ? null : f <= 5 });
  const i = of(ratios.incrementalOfFull, inc, full);
  out.push({ goal: 'transform +1 day ≤ 2 % of transform --full', value: i === null ? 'not measured' : `${(i * 100).toFixed(1)} %`, met: i === null ? null : i <= 0.02 });
  const late = of(ratios.lateOfIncremental, get('transform (late old day)'), inc);
  out.push({ goal: 'transform of a late old day ≤ 3 × transform +1 day', value: late === null ? 'not measured' : `${late.toFixed(2)} ×`, met: late === null ? null : late <= 3 });
  const force = of(ratios.forceOfIncremental, get('transform (--force of a day)'), inc);
  out.push({ goal: 'transform after load --force of a day ≤ 3 × transform +1 day', value: force === null ? 'not measured' : `${force.toFixed(2)} ×`, met: force === null ? null : force <= 3 });
  const changed = of(ratios.summaryChangedOfFull, get('transform (a summary file changed)'), full);
  if (changed !== null || row('transform (a summary file changed)')) {
    out.push({ goal: 'transform after a change to a summary file ≤ 25 % of transform --full', value: changed === null ? 'not measured' : `${(changed * 100).toFixed(1)} %`, met: changed === null ? null : changed <= 0.25 });
  }
  const peak = Math.max(...[full, inc].map((s) => s?.peakRssMb ?? 0));
  if (peak > 0) out.push({ goal: 'transform client peak RSS (the backend: see docs/benchmarks.md)', value: `${peak.toFixed(0)} MB`, met: null });
  return out;
}

/** Goal across sizes: the +1 day transform grows with the history by an exponent ≤ 0.2 (smallest → largest size). */
export function incrementalExponent(sizes: { rows: number; steps: Row[] }[]): Goal | null {
  if (sizes.length < 2) return null;
  const at = (s: { steps: Row[] }) => s.steps.find((r) => r.contender === 'transform (incremental, +1 day)')?.summary?.median ?? null;
  const [a, b] = [at(sizes[0]!), at(sizes.at(-1)!)];
  if (!a || !b) return null;
  const e = Math.log(b / a) / Math.log(sizes.at(-1)!.rows / sizes[0]!.rows);
  return { goal: `transform +1 day grows with the history by an exponent ≤ 0.2 (${sizes[0]!.rows.toLocaleString('en-US')} → ${sizes.at(-1)!.rows.toLocaleString('en-US')} rows)`, value: e.toFixed(2), met: e <= 0.2 };
}

export function goalLines(list: Goal[]): string {
  return list.map((g) => `  ${g.met === null ? '-   ' : g.met ? 'met ' : 'MISS'}  ${g.goal}: ${g.value}`).join('\n');
}

/** the stages of a transform, by the number that starts a sql/ file's name (docs/transform.md) */
const STAGES: [number, string][] = [
  [11, 'parse 001-010'],
  [17, 'quarantine, dedup, core and its index builds 011-016'],
  [20, 'accounting 017'],
  [30, 'summaries 020-025'],
  [100, 'entities 030-032'],
  [Infinity, 'publish 100+'],
];

/** A transform run's files (meta.transform_runs.files) added up by stage, in ms. */
export function stageTimes(files: { file: string; ms: number }[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(STAGES.map(([, name]) => [name, 0]));
  for (const f of files) {
    const n = Number(/(\d+)_[^/]*$/.exec(f.file)?.[1]);
    if (!Number.isFinite(n)) continue;
    const name = STAGES.find(([below]) => n < below)![1];
    out[name] = (out[name] ?? 0) + f.ms;
  }
  return out;
}

/** One line: the median ms of each stage over the runs, and its share of their sum. */
export function stageLine(runs: Record<string, number>[]): string {
  if (!runs.length) return '';
  const names = Object.keys(runs[0]!);
  const medians = names.map((name) => [name, median(runs.map((r) => r[name] ?? 0))] as const);
  const total = medians.reduce((a, [, ms]) => a + ms, 0) || 1;
  return medians.map(([name, ms]) => `${name} ${(ms / 1000).toFixed(2)} s (${Math.round((100 * ms) / total)} %)`).join(', ');
}
