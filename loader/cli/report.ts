/** npm run report [-- --out DIR] [--json] — the self-contained HTML report of features, data quality and runs. */
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { openDatabase } from '../db.js';
import { EXIT, UserError } from '../errors.js';
import { projectRoot } from '../paths.js';
import { buildReport } from '../report/index.js';
import { runMain } from './main.js';

const USAGE = `usage: report [--out DIR] [--json]
  --out DIR   write DIR/index.html (default: report/ in the project)
  --json      print a JSON summary (path, bytes, as_of_date, sections, charts, timings) instead of the line
Reads only what the role analyst may read (features.*, meta.load_summary, meta.transform_history,
meta.transform_file_timings, meta.data_dictionary); any login with those rights works.
Exit codes: 0 written, 1 failed (e.g. not transformed yet), 2 usage or configuration (e.g. no rights).`;

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: { out: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n${USAGE}`, EXIT.usage);
  }
}

runMain('report', async () => {
  const args = parse(process.argv.slice(2));
  if (args.help) return void console.log(USAGE);
  if (args.out !== undefined && !args.out.trim()) throw new UserError(`--out needs a folder\n${USAGE}`, EXIT.usage);
  const outDir = args.out === undefined ? join(projectRoot, 'report') : resolve(args.out);
  // read-only: never migrates (a read-only login could not), only reads
  const db = await openDatabase({ migrate: false, poolSize: 1 });
  try {
    const summary = await buildReport(db, outDir);
    if (args.json) console.log(JSON.stringify(summary));
    else {
      const shown = relative(process.cwd(), summary.path) || summary.path;
      console.log(`report written: ${shown.startsWith('..') ? summary.path : shown} (${(summary.bytes / 1024).toFixed(0)} KiB, as of ${summary.as_of_date ?? 'no data'}; queries ${summary.query_ms} ms, charts ${summary.render_ms} ms)`);
    }
    return EXIT.ok;
  } finally {
    await db.close();
  }
});
