/** npm run load -- [options] [source ...] — stream transaction CSV and JSON (files, URLs, paginated APIs) into staging (see loader/load/). */
import { performance } from 'node:perf_hooks';

import { openDatabase } from '../db.js';
import { EXIT } from '../errors.js';
import { parseLoadArgs, loadUsage } from '../load/args.js';
import { loadSources } from '../load/index.js';
import { Reporter } from '../load/report.js';
import { wantsWatch } from '../watch/args.js';
import { runMain } from './main.js';

runMain('load', async () => {
  // --watch DIR: the long-running service (loader/watch/)
  // (imported only then: a one-shot load starts faster)
  if (wantsWatch(process.argv.slice(2))) {
    const [{ runLoadWatch }, { loadWithLoader, closeIdle }] = await Promise.all([import('../watch/load-service.js'), import('../watch/load-adapter.js')]);
    return runLoadWatch(process.argv.slice(2), loadWithLoader, { beforeClose: closeIdle });
  }
  const args = parseLoadArgs(process.argv.slice(2));
  if (args.help) return void console.log(loadUsage);
  const reporter = new Reporter({ quiet: args.quiet, json: args.json, tty: process.stderr });
  const t0 = performance.now();
  const db = await openDatabase();
  try {
    const results = await loadSources(db, args.sources, { jobs: args.jobs, force: args.force, format: args.format, http: args.http, onEvent: (e) => reporter.event(e) });
    reporter.summary(results, (performance.now() - t0) / 1000);
    return results.some((r) => r.status === 'failed') ? EXIT.failed : EXIT.ok;
  } finally {
    await db.close();
  }
});
