/** The generate command's options: parsed and checked here (pure), acted on by scripts/generate.ts. */
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { UserError } from '../errors.js';
import { dayOf } from './calendar.js';

export interface GenerateArgs {
  rows?: number;
  days?: number;
  seed: number;
  /** a file path, or '-' for stdout (the default unless splitByDay) */
  out: string;
  gzip: boolean;
  splitByDay?: string;
  dirty: number;
  from: number;
  fromDate: string;
  volume: number;
  /** where the manifest goes: default `<out>.manifest.json`, `<dir>.manifest.json` beside the folder (inside it, a
   *  directory load would take it for a JSON source); none for stdout */
  manifest?: string;
  calibrate: boolean;
  quiet: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run generate -- --rows N [options]
  --rows N             records to write (1000000, 1_000_000, 1e6, 250k, 4M)
  --days N             or: stop after N days that have records
  --seed S             integer seed (default 1): the same seed gives the same bytes
  --out PATH|-         output file, or - for stdout (default)
  --gzip               gzip the output (.csv.gz)
  --split-by-day DIR   one file per day: DIR/YYYY-MM-DD.csv[.gz]
  --dirty RATE         replace this share of records (0..1) by defects and odd-but-valid variants; needs --rows
  --from YYYY-MM-DD    first day (default 2010-12-01, the real data's first day)
  --volume F           invoices per day × F (default 1: the real ~85 invoices, ~1,800 lines a day)
  --manifest PATH      where to write the manifest (default <out>.manifest.json, DIR.manifest.json)
  --calibrate          recompute loader/generate/calibration.json from the bundled data
  --quiet              no summary on stderr`;

export function parseCount(name: string, raw: string): number {
  const m = /^(\d[\d_,]*(?:\.\d+)?)(e\d+|k|m)?$/i.exec(raw.trim());
  const base = m ? Number(m[1]!.replace(/[_,]/g, '')) : NaN;
  const suffix = m?.[2]?.toLowerCase();
  const n = suffix === 'k' ? base * 1e3 : suffix === 'm' ? base * 1e6 : suffix ? base * 10 ** Number(suffix.slice(1)) : base;
  if (!Number.isSafeInteger(n) || n < 1) throw new UserError(`--${name} must be a positive whole number, got "${raw}"`);
  return n;
}

function parseNumber(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new UserError(`--${name} must be a number from ${min} to ${max}, got "${raw}"`);
  return n;
}

export function parseGenerateArgs(argv: string[]): GenerateArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        rows: { type: 'string' },
        days: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        gzip: { type: 'boolean' },
        'split-by-day': { type: 'string' },
        dirty: { type: 'string' },
        from: { type: 'string' },
        volume: { type: 'string' },
        manifest: { type: 'string' },
        calibrate: { type: 'boolean' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n${USAGE}`);
  }
  const fromDate = values.from ?? '2010-12-01';
  let from: number;
  try {
    from = dayOf(fromDate);
  } catch {
    throw new UserError(`--from must be a date YYYY-MM-DD, got "${fromDate}"`);
  }
  const args: GenerateArgs = {
    rows: values.rows === undefined ? undefined : parseCount('rows', values.rows),
    days: values.days === undefined ? undefined : parseCount('days', values.days),
    seed: values.seed === undefined ? 1 : Math.trunc(parseNumber('seed', values.seed, 0, 2 ** 32 - 1)),
    out: values.out ?? '-',
    gzip: values.gzip ?? false,
    splitByDay: values['split-by-day'],
    dirty: values.dirty === undefined ? 0 : parseNumber('dirty', values.dirty, 0, 1),
    from,
    fromDate,
    volume: values.volume === undefined ? 1 : parseNumber('volume', values.volume, 0.01, 10_000),
    manifest: values.manifest,
    calibrate: values.calibrate ?? false,
    quiet: values.quiet ?? false,
    help: values.help ?? false,
  };
  if (args.help || args.calibrate) return args;
  if (from < 0) throw new UserError('--from must be 2010-12-01 or later');
  if (args.rows === undefined && args.days === undefined) throw new UserError(`--rows N (or --days N) is required\n${USAGE}`);
  if (args.dirty > 0 && args.rows === undefined) throw new UserError('--dirty needs --rows (the last record is the unterminated quote)');
  if (args.splitByDay !== undefined && values.out !== undefined) throw new UserError('--out and --split-by-day exclude each other');
  if (args.manifest === undefined && args.splitByDay !== undefined) args.manifest = `${args.splitByDay.replace(/[/\\]+$/, '')}.manifest.json`;
  if (args.manifest === undefined && args.out !== '-') args.manifest = `${args.out}.manifest.json`;
  return args;
}
