/** npm run training-set -- --cutoff D [--cutoff D …] | --from D --to D --every DAYS, --horizon-days N, --out FILE */
import { openDatabase } from '../db.js';
import { EXIT } from '../errors.js';
import { parseTrainingArgs, trainingUsage } from '../training/args.js';
import { exportTrainingSet, type ExportSummary } from '../training/export.js';
import { runMain } from './main.js';

const n = (x: number) => x.toLocaleString('en-US');

export function summaryLine(s: ExportSummary): string {
  const mb = (s.bytes / 2 ** 20).toFixed(1);
  const count = `${s.cutoffs.length} cutoff${s.cutoffs.length === 1 ? '' : 's'}`;
  return `training set written: ${n(s.rows)} rows (${count}, horizon ${n(s.horizon_days)} days) to ${s.out} (${s.format}, ${mb} MB, ${s.seconds.toFixed(1)} s)`;
}

runMain('training-set', async () => {
  const args = parseTrainingArgs(process.argv.slice(2));
  if (args.help) {
    console.log(trainingUsage);
    return EXIT.ok;
  }
  const progress = !!process.stderr.isTTY && !args.json && !args.quiet;
  const db = await openDatabase();
  try {
    const summary = await exportTrainingSet(db, {
      cutoffs: args.cutoffs,
      horizonDays: args.horizonDays,
      out: args.out,
      format: args.format,
      onCutoff: progress
        ? (r, i, total) => process.stderr.write(`[${i + 1}/${total}] cutoff ${r.cutoff_date}: ${n(r.rows)} customers (${r.seconds.toFixed(1)} s)\n`)
        : undefined,
    });
    if (args.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else if (!args.quiet) console.log(summaryLine(summary));
    return EXIT.ok;
  } finally {
    await db.close();
  }
});
