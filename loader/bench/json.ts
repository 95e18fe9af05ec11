/**
 * npm run bench -- --suite json [--rows N] [--reps R] [--seed S]: the loader on JSON Lines against the
 * loader on CSV, the same generated rows. The CSV is converted here (numbers as JSON numbers, their
 * text kept; an unquoted empty field as null; the rest as strings), then each repetition loads both
 * on fresh migrated databases, in alternating order; medians, per-pair ratios and peak RSS.
 */
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { $ } from 'zx';

import { UserError } from '../errors.js';
import { splitFields } from '../load/fields.js';
import { projectRoot } from '../paths.js';
import { measure } from './measure.js';
import { openBenchServer, type BenchServer } from './server.js';
import { median } from './stats.js';
import { cli } from './steps.js';

const node = process.execPath;
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** CSV file → JSON Lines file, streamed (records found by quote parity, so quoted newlines stay in one record). */
export async function csvToJsonLines(csv: string, out: string): Promise<number> {
  const w = createWriteStream(out);
  let keys: string[] | undefined;
  let rest = '';
  let pending = '';
  let records = 0;
  const emit = (record: string) => {
    const fields = splitFields(Buffer.from(record), 0, Buffer.byteLength(record));
    if (!keys) return void (keys = fields.map((f) => f.value.toString('utf8')));
    const members = fields.map((f, k) => {
      const v = f.value.toString('utf8');
      const json = v === '' && !f.quoted ? 'null' : JSON_NUMBER.test(v) ? v : JSON.stringify(v);
      return `${JSON.stringify(keys![k] ?? `extra${k}`)}:${json}`;
    });
    records++;
    return `{${members.join(',')}}\n`;
  };
  for await (const chunk of createReadStream(csv, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    let text = '';
    for (const line of lines) {
      pending = pending ? `${pending}\n${line}` : line;
      if ((pending.match(/"/g)?.length ?? 0) % 2 === 0) {
        const rec = pending.endsWith('\r') ? pending.slice(0, -1) : pending;
        pending = '';
        text += emit(rec) ?? '';
      }
    }
    if (!w.write(text)) await once(w, 'drain');
  }
  if (rest || pending) w.write(emit(pending ? `${pending}\n${rest}` : rest) ?? '');
  w.end();
  await once(w, 'finish');
  return records;
}

async function loadOnce(server: BenchServer, file: string) {
  const db = await server.create();
  const env = server.env(db);
  try {
    const mig = await measure(node, [cli('migrate')], env);
    if (mig.exitCode !== 0) throw new Error(`migrate failed: ${mig.stderr}`);
    await server.sql(db, 'checkpoint').catch(() => undefined);
    const m = await measure(node, [cli('load'), file], env);
    if (m.exitCode !== 0) throw new Error(`load ${file} failed: ${m.stderr.trim()}`);
    const { rows } = await server.sql(db, "select sum(rows_staged)::bigint as s, sum(rows_rejected)::bigint as r from meta.loads where status = 'complete'");
    return { seconds: m.seconds, peakRssMb: m.peakRssMb, staged: Number(rows[0].s), rejected: Number(rows[0].r) };
  } finally {
    await server.drop(db);
  }
}

export const JSON_BENCH_USAGE = 'usage: npm run bench -- --suite json [--rows 1000000] [--reps 3] [--seed 1] [--data-dir DIR]';

export async function runJsonBench(argv: string[]): Promise<void> {
  let values: { rows?: string; reps?: string; seed?: string; 'data-dir'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { rows: { type: 'string' }, reps: { type: 'string' }, seed: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n${JSON_BENCH_USAGE}`);
  }
  if (values.help) return void console.log(JSON_BENCH_USAGE);
  const rows = Number(values.rows ?? 1_000_000);
  const reps = Number(values.reps ?? 3);
  const seed = Number(values.seed ?? 1);
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(reps) || reps < 1) throw new UserError('--rows and --reps must be positive whole numbers');
  const dir = values['data-dir'] ?? join(projectRoot, 'bench-results', 'data');
  const csv = join(dir, `bench-${rows}-s${seed}.csv`);
  const jsonl = join(dir, `bench-${rows}-s${seed}.jsonl`);
  $.verbose = false;
  $.cwd = projectRoot;
  if (!existsSync(csv)) await $`mkdir -p ${dir} && ${node} dist/scripts/generate.js --quiet --rows ${rows} --seed ${seed} --out ${csv}`;
  if (!existsSync(jsonl)) console.log(`converted ${await csvToJsonLines(csv, jsonl)} records to ${jsonl}`);
  const expected = JSON.parse(readFileSync(`${csv}.manifest.json`, 'utf8')).expected.rows_staged as number;
  const server = await openBenchServer();
  const samples: Record<'csv' | 'jsonl', { seconds: number; peakRssMb: number | null }[]> = { csv: [], jsonl: [] };
  try {
    for (let r = 0; r < reps; r++) {
      for (const kind of (r % 2 ? ['jsonl', 'csv'] : ['csv', 'jsonl']) as ('csv' | 'jsonl')[]) {
        const s = await loadOnce(server, kind === 'csv' ? csv : jsonl);
        if (s.staged !== expected) throw new Error(`${kind}: staged ${s.staged} rows, expected ${expected}`);
        samples[kind].push(s);
        console.log(`rep ${r + 1} ${kind.padEnd(5)} ${s.seconds.toFixed(2)} s  peak RSS ${s.peakRssMb?.toFixed(1) ?? '?'} MB`);
      }
    }
  } finally {
    await server.close();
  }
  const med = (k: 'csv' | 'jsonl') => median(samples[k].map((s) => s.seconds));
  const peak = (k: 'csv' | 'jsonl') => Math.max(...samples[k].map((s) => s.peakRssMb ?? NaN)).toFixed(1);
  const ratio = median(samples.csv.map((c, i) => samples.jsonl[i]!.seconds / c.seconds));
  console.log(`${rows.toLocaleString('en-US')} rows: csv median ${med('csv').toFixed(2)} s (peak RSS ${peak('csv')} MB), jsonl median ${med('jsonl').toFixed(2)} s (peak RSS ${peak('jsonl')} MB); jsonl/csv ratio (median of pairs) ${ratio.toFixed(2)}; goal ≤ 2.00 and ≤ 150 MB`);
}
