/** `load` command-line arguments (pure): one parse function, easy to extend. */
import { parseArgs } from 'node:util';

import { UserError } from '../errors.js';

export interface LoadArgs {
  sources: string[];
  jobs?: number;
  force: boolean;
  json: boolean;
  quiet: boolean;
  help: boolean;
}

export const loadUsage = `usage: npm run load -- [options] [source ...]

  source        a .csv or .csv.gz file, a directory (its .csv/.csv.gz files in name order),
                an http(s):// URL, or - for stdin. None: the bundled dataset (data/online-retail/by-day)
  -j, --jobs N  files loaded at once, each over its own connections (default: the CPU count)
  --force       load again files whose bytes are already loaded, replacing the earlier load
  --json        print a machine-readable summary (JSON) on stdout
  -q, --quiet   print only errors
  --watch DIR   service mode: load every complete file that appears in DIR, until SIGTERM
                (with --json: one JSON log line per event; see README, Running as services)
  -h, --help    this help`;

export function parseLoadArgs(argv: string[]): LoadArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        jobs: { type: 'string', short: 'j' },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', short: 'q', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n${loadUsage}`);
  }
  const { values, positionals } = parsed;
  let jobs: number | undefined;
  if (values.jobs !== undefined) {
    jobs = Number(values.jobs);
    if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new UserError(`--jobs must be a whole number from 1 to 64, got "${values.jobs}"`);
  }
  return { sources: positionals, jobs, force: values.force, json: values.json, quiet: values.quiet, help: values.help };
}
