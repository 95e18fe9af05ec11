/** `training-set` command-line arguments (pure): which cutoffs, which horizon, which file. */
import { parseArgs } from 'node:util';

import { UserError } from '../errors.js';

export type Format = 'csv' | 'parquet';

export interface TrainingArgs {
  /** ISO dates, ascending, each once */
  cutoffs: string[];
  horizonDays: number;
  out: string;
  format: Format;
  json: boolean;
  quiet: boolean;
  help: boolean;
}

export const trainingUsage = `usage: npm run training-set -- (--cutoff DATE [--cutoff DATE …] | --from DATE --to DATE --every DAYS)
                             --horizon-days N --out FILE [--json] [--quiet]

  --cutoff DATE       a cutoff (YYYY-MM-DD); repeat for several
  --from, --to DATE   or every cutoff from --from to --to (both included) ...
  --every DAYS        ... DAYS days apart (e.g. --from 2011-03-01 --to 2011-09-01 --every 30)
  --horizon-days N    label window: the N days from each cutoff (N >= 1)
  --out FILE          FILE.parquet or FILE.csv (the format follows the extension); written whole or not at all
  --json              print a machine-readable summary (JSON) on stdout
  -q, --quiet         print only errors
  -h, --help          this help
Every cutoff's rows go to the one file, each with its cutoff_date, cutoffs ascending.
Exit codes: 0 written, 1 failed (database), 2 bad arguments or configuration.`;

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a real calendar date YYYY-MM-DD, or undefined. */
export function isoDayNumber(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  if (y < 1 || back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return t / DAY_MS;
}

export function isoDay(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

function date(option: string, text: string): number {
  const n = isoDayNumber(text);
  if (n === undefined) throw new UserError(`--${option} must be a date YYYY-MM-DD, got "${text}"`);
  return n;
}

function wholeNumber(option: string, text: string | undefined, min: number): number {
  if (text === undefined) throw new UserError(`--${option} is required (see --help)`);
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > 2_147_483_647) throw new UserError(`--${option} must be a whole number >= ${min}, got "${text}"`);
  return n;
}

/** The cutoffs from --from to --to (inclusive), every `every` days. */
export function cutoffRange(from: string, to: string, every: number): string[] {
  const [a, b] = [date('from', from), date('to', to)];
  if (a > b) throw new UserError(`--from ${from} is after --to ${to}`);
  const out: string[] = [];
  for (let d = a; d <= b; d += every) out.push(isoDay(d));
  return out;
}

/** Parse argv; any problem is a UserError of one line (exit 2). */
export function parseTrainingArgs(argv: string[]): TrainingArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        cutoff: { type: 'string', multiple: true },
        from: { type: 'string' },
        to: { type: 'string' },
        every: { type: 'string' },
        'horizon-days': { type: 'string' },
        out: { type: 'string', short: 'o' },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', short: 'q', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UserError(`${(err as Error).message.split('\n')[0]} (see --help)`);
  }
  const base = { json: values.json, quiet: values.quiet, help: values.help };
  if (values.help) return { ...base, cutoffs: [], horizonDays: 0, out: '', format: 'csv' };
  const range = [values.from, values.to, values.every];
  let cutoffs: string[];
  if (values.cutoff?.length) {
    if (range.some((v) => v !== undefined)) throw new UserError('give either --cutoff or --from/--to/--every, not both');
    for (const c of values.cutoff) date('cutoff', c);
    cutoffs = [...new Set(values.cutoff)].sort();
  } else if (range.every((v) => v !== undefined)) {
    cutoffs = cutoffRange(values.from!, values.to!, wholeNumber('every', values.every, 1));
  } else if (range.some((v) => v !== undefined)) {
    throw new UserError('--from, --to and --every go together (all three)');
  } else throw new UserError('no cutoff: give --cutoff DATE or --from DATE --to DATE --every DAYS');
  const horizonDays = wholeNumber('horizon-days', values['horizon-days'], 1);
  const out = values.out;
  if (!out) throw new UserError('--out FILE is required (FILE.parquet or FILE.csv)');
  const ext = /\.(parquet|csv)$/i.exec(out)?.[1]?.toLowerCase() as Format | undefined;
  if (!ext) throw new UserError(`--out must end in .parquet or .csv, got "${out}"`);
  return { ...base, cutoffs, horizonDays, out, format: ext };
}
