/**
 * npm start — the whole pipeline on the bundled data: database up, migrations, load, transform, report.
 * Orchestration only: every step is one of the project's own commands.
 */
import { join } from 'node:path';

import { $ } from 'zx';

import { resolveDbTarget } from '../loader/config.js';
import { projectRoot } from '../loader/paths.js';

$.cwd = projectRoot;
$.verbose = false;
const node = process.execPath;
const target = resolveDbTarget(process.env, projectRoot);
let startedHere = false;

async function step(title: string, args: string[]): Promise<void> {
  console.log(`\n== ${title}`);
  const p = $({ stdio: 'inherit', nothrow: true })`${node} ${args}`;
  const { exitCode } = await p;
  if (exitCode !== 0) throw Object.assign(new Error(`${title} failed (exit ${exitCode})`), { exitCode: exitCode ?? 1 });
}

try {
  if (target.kind === 'embedded') {
    // quiet: zx would echo the child's stderr as well, and the line below prints it (it was shown twice)
    const out = await $({ quiet: true })`${node} dist/loader/cli/db.js start`;
    startedHere = /started/.test(out.stderr);
    console.log(out.stderr.trim());
  }
  await step('migrate', ['dist/loader/cli/migrate.js']);
  await step('load', ['dist/loader/cli/load.js']);
  await step('transform', ['dist/loader/cli/transform.js', '--quiet', '--summary']);
  await step('report', ['dist/loader/cli/report.js']);
  console.log('\nThe database is ready. Connect with: npm run db:url');
  console.log(`Open the report: ${join(projectRoot, 'report', 'index.html')} (npm run report writes it again)`);
  if (startedHere) console.log('(npm start stops the embedded server it started: run npm run db:start first to keep it up)');
  console.log('Read-only users: grant analyst to <login role>; they can select features.*, meta.load_summary and the meta views the report reads.');
} catch (err) {
  const e = err as { exitCode?: number; message: string; stderr?: string };
  console.error(`start: ${e.stderr?.trim() || e.message}`);
  process.exitCode = e.exitCode ?? 1;
} finally {
  if (startedHere) await $`${node} dist/loader/cli/db.js stop`.nothrow();
}
