/** npm run status [-- --json] [--max-age HOURS] [--max-lag MINUTES] — is the data fresh, do the services keep up? */
import { openDatabase } from '../db.js';
import { EXIT } from '../errors.js';
import { parseStatusArgs, statusUsage } from '../status/args.js';
import { problems } from '../status/assess.js';
import { formatStatus } from '../status/format.js';
import { readStatus } from '../status/read.js';
import type { StatusReport } from '../status/types.js';
import { runMain } from './main.js';

runMain('status', async () => {
  const args = parseStatusArgs(process.argv.slice(2));
  if (args.help) {
    console.log(statusUsage);
    return EXIT.ok;
  }
  // never migrates: a status check changes nothing
  const db = await openDatabase({ migrate: false, poolSize: 1 });
  try {
    const c = await db.pool.connect();
    let report: StatusReport;
    try {
      const snapshot = await readStatus(c);
      const found = problems(snapshot, args);
      report = { healthy: found.length === 0, problems: found, ...snapshot };
    } finally {
      c.release();
    }
    if (args.json) console.log(JSON.stringify(report, null, 2));
    else for (const line of formatStatus(report)) console.log(line);
    if (report.healthy) return EXIT.ok;
    process.stderr.write(`status: unhealthy: ${report.problems.join('; ')}\n`);
    return EXIT.failed;
  } finally {
    await db.close();
  }
});
