/** npm run transform [-- --full] [--dry-run] [--no-wait] [--quiet] [--sql-dir DIR] — staging → core → features. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { openDatabase } from '../db.js';
import { pendingMigrations } from '../migrate.js';
import { EXIT, UserError } from '../errors.js';
import { describePlan, planTransform, runTransform, type TransformResult } from '../transform/index.js';
import { pipelineSummary } from '../transform/summary.js';
import { wantsWatch } from '../watch/args.js';
import { transformWithRunner } from '../watch/transform-adapter.js';
import { runTransformWatch } from '../watch/transform-service.js';
import { runMain } from './main.js';

export const transformOptions = {
  full: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  'no-wait': { type: 'boolean', default: false },
  quiet: { type: 'boolean', short: 'q', default: false },
  'sql-dir': { type: 'string' },
  summary: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const USAGE = `usage: transform [--full] [--dry-run] [--no-wait] [--quiet] [--summary] [--sql-dir DIR] [--watch [--json]]
  --full        rebuild core from every complete load (default: only loads completed since the last transform)
  --dry-run     print what the run would do (incremental, full and why, which tables a changed step file rebuilds), change nothing
  --no-wait     if another transform is running, exit with code 3 instead of waiting for it
  --quiet       print only the summary line
  --summary     then print what the database holds: rows loaded, rejected, quarantined, duplicates; rows per feature view
  --sql-dir DIR run the SQL files of DIR instead of sql/ (to try a change)
  --watch       service mode: transform whenever loads complete (NOTIFY, with a periodic check), until SIGTERM
                (with --json: one JSON log line per event; see README, Running as services)`;

export function parseTransformArgs(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: transformOptions, allowPositionals: false, strict: true }).values;
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n${USAGE}`, EXIT.usage);
  }
}

const n = (x: number) => x.toLocaleString('en-US');

export function summaryLine(r: TransformResult): string {
  const mode = r.full ? `full (${r.fullReason})` : r.rebuild ? `incremental + rebuild (${r.rebuild.reason})` : 'incremental';
  const loads = `${n(r.loads)} load${r.loads === 1 ? '' : 's'}`;
  const rows = r.loads ? `: ${n(r.rowsStaged)} staged rows → ${n(r.rowsClean)} clean, ${n(r.rowsQuarantined)} quarantined, ${n(r.rowsDuplicate)} duplicates` : ': nothing new';
  return `transform ${r.runId} complete, ${mode}, ${loads}${rows} (${(r.ms / 1000).toFixed(1)} s)`;
}

runMain('transform', async () => {
  // --watch: the long-running service (loader/watch/)
  if (wantsWatch(process.argv.slice(2))) return runTransformWatch(process.argv.slice(2), transformWithRunner);
  const args = parseTransformArgs(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    return EXIT.ok;
  }
  const sqlDir = args['sql-dir'] === undefined ? undefined : resolve(args['sql-dir']);
  if (args['dry-run']) {
    // read-only: no migration, no lock, no run recorded (a migration still pending is applied by the real run)
    const db = await openDatabase({ migrate: false });
    try {
      const pending = await pendingMigrations(db.pool);
      if (pending.length) console.log(`migrations pending (the run applies them first): ${pending.join(', ')}`);
      for (const line of describePlan(await planTransform(db, { full: args.full, sqlDir }))) console.log(line);
      return EXIT.ok;
    } finally {
      await db.close();
    }
  }
  const db = await openDatabase();
  try {
    const result = await runTransform(db, {
      full: args.full,
      wait: !args['no-wait'],
      sqlDir,
      log: (line) => (args.quiet && !line.startsWith('another transform') && !line.startsWith('the transform runs as') ? undefined : console.error(line)),
    });
    console.log(summaryLine(result));
    if (args.summary) for (const line of await pipelineSummary(db.pool)) console.log(line);
    return EXIT.ok;
  } finally {
    await db.close();
  }
});
