/**
 * The timed steps of the benchmark, each on a fresh database that it drops after: psql \copy and
 * pgloader into an eight-text-column table, and our load followed by the full and the incremental
 * transform, and a transform after a change to a summary file (sql/031, a comment appended in a copy of sql/). Every step checks its result (rows stored, staged, clean) before its time counts.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Manifest } from '../generate/manifest.js';
import { projectRoot, sqlDir } from '../paths.js';
import { measure, type Measured } from './measure.js';
import type { BenchServer } from './server.js';
import { stageTimes, type Sample } from './stats.js';

const node = process.execPath;
export const cli = (name: string) => join(projectRoot, 'dist', 'loader', 'cli', `${name}.js`);
const COLUMNS = ['invoice_no', 'stock_code', 'description', 'quantity', 'invoice_date', 'unit_price', 'customer_id', 'country'];
const TABLE_SQL = `create table t (${COLUMNS.map((c) => `${c} text`).join(', ')})`;

export type Contender = 'psql \\copy' | 'pgloader' | 'npm run load';
export type Step = Contender | 'transform --full' | 'transform (incremental, +1 day)' | 'transform (late old day)' | 'transform (--force of a day)' | 'transform (a summary file changed)';

/** the summary file the bench changes (a comment appended, in a copy of sql/): it rebuilds core.products only */
export const CHANGED_SUMMARY_FILE = '031_core.products.sql';

/** the transform steps that add a day onto the history (their rows are the day's, not the history's) */
export const DAY_STEPS: readonly Step[] = ['transform (incremental, +1 day)', 'transform (late old day)', 'transform (--force of a day)'];

export class StepError extends Error {}

/** pgloader runs ~20× slower than psql here: beyond this many seconds it gets one run per size, so the bench ends in minutes */
export const PGLOADER_ONE_RUN_SECONDS = 10;

function check(what: string, m: Measured): Measured {
  if (m.exitCode !== 0) throw new StepError(`${what} exited with ${m.exitCode}: ${(m.stderr || m.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return m;
}

async function checkpoint(server: BenchServer, db: string): Promise<void> {
  await server.sql(db, 'checkpoint').catch(() => undefined); // fewer dirty buffers of the previous step; needs superuser or pg_checkpoint
}

export async function psqlCopy(server: BenchServer, file: string, rows: number): Promise<Sample> {
  const db = await server.create();
  try {
    await server.sql(db, TABLE_SQL);
    await checkpoint(server, db);
    const m = check('psql', await measure('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', `\\copy t from '${file.replace(/'/g, "''")}' with (format csv, header true)`], server.env(db)));
    const n = Number((await server.sql(db, 'select count(*) as n from t')).rows[0].n);
    if (n !== rows) throw new StepError(`psql \\copy stored ${n} rows, expected ${rows}`);
    return { seconds: m.seconds, peakRssMb: m.peakRssMb };
  } finally {
    await server.drop(db);
  }
}

export async function pgloader(server: BenchServer, file: string, rows: number, workDir: string): Promise<Sample> {
  const db = await server.create();
  const command = join(workDir, `${db}.load`);
  try {
    await server.sql(db, TABLE_SQL);
    writeFileSync(
      command,
      `LOAD CSV FROM '${file}' (${COLUMNS.join(', ')})\n INTO ${server.passwordlessUrl(db)}?tablename=t (${COLUMNS.join(', ')})\n` +
        ` WITH skip header = 1, fields optionally enclosed by '"', fields escaped by double-quote, fields terminated by ','\n SET client_encoding to 'utf8';\n`,
    );
    await checkpoint(server, db);
    const m = check('pgloader', await measure('pgloader', ['--quiet', command], server.env(db)));
    const n = Number((await server.sql(db, 'select count(*) as n from t')).rows[0].n);
    if (n !== rows) throw new StepError(`pgloader stored ${n} rows, expected ${rows}`);
    return { seconds: m.seconds, peakRssMb: m.peakRssMb };
  } finally {
    rmSync(command, { force: true });
    await server.drop(db);
  }
}

export interface PipelineSamples {
  load: Sample; full?: Sample; incremental?: Sample; late?: Sample; force?: Sample; summaryChanged?: Sample; error?: string;
  /** where transform --full's time went: ms per stage, from its meta.transform_runs.files */
  fullStages?: Record<string, number>;
}

/** how the history arrives: one file (one load), or one file a day (one load a day), as shops deliver it */
export type Shape = 'one file' | 'daily files';
/** who runs load and transform: the services' own logins (as the compose stack makes them), or the superuser */
export type RunAs = 'service logins' | 'superuser';

export interface PipelineFiles {
  /** the history: a file, or a folder of daily files */
  file: string;
  manifest: Manifest;
  /** the day after the history */
  dayFile: string;
  dayManifest: Manifest;
  /** a day inside the history, loaded before the full transform but completed only after the +1 day */
  lateFile: string;
  lateManifest: Manifest;
}

async function coreRows(server: BenchServer, db: string): Promise<number> {
  return Number((await server.sql(db, 'select count(*) as n from core.transactions')).rows[0].n);
}

interface Logins {
  loader: NodeJS.ProcessEnv;
  transform: NodeJS.ProcessEnv;
  /** who the transform runs as, for the printed figures */
  describe: string;
  roles: string[];
}

/**
 * The loader and transform logins made the way the compose stack makes them: docker/service-roles.sh
 * (psql, as the superuser, after migrate), each login a member of its group role and acting as it.
 */
function serviceLogins(server: BenchServer, db: string): Logins {
  const tag = randomBytes(4).toString('hex');
  const make = (what: string) => ({ user: `bench_${what}_${tag}`, password: randomBytes(12).toString('hex') });
  const [loader, transform, analyst] = [make('loader'), make('transform'), make('analyst')];
  const vars = {
    LOADER_DB_USER: loader.user, LOADER_DB_PASSWORD: loader.password,
    TRANSFORM_DB_USER: transform.user, TRANSFORM_DB_PASSWORD: transform.password,
    ANALYST_DB_USER: analyst.user, ANALYST_DB_PASSWORD: analyst.password,
  };
  const r = spawnSync('sh', [join(projectRoot, 'docker', 'service-roles.sh')], { env: { ...server.env(db), ...vars }, encoding: 'utf8' });
  if (r.status !== 0) throw new StepError(`docker/service-roles.sh exited with ${r.status}: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
  return {
    loader: server.envAs(db, loader.user, loader.password),
    transform: server.envAs(db, transform.user, transform.password),
    describe: `the service login ${transform.user} (member of transformer, acting as it)`,
    roles: [loader.user, transform.user, analyst.user],
  };
}

/** what the figures of a run say about it: the shape and who ran the transform */
export function runLabel(shape: Shape, runAs: RunAs, loads: number): string {
  return `${shape} (${loads.toLocaleString('en-US')} load${loads === 1 ? '' : 's'}), load and transform as ${runAs === 'superuser' ? 'the superuser' : 'their service logins (docker/service-roles.sh), after migrate as the superuser'}`;
}

/**
 * Load into a fresh migrated database, then (when the transform exists) the transforms on it, each timed
 * and checked against the manifests: --full; +1 day; a late old day (an earlier load that completes after
 * the +1 day was transformed: hidden as failed until then); `load --force` of the +1 day again.
 */
export async function pipeline(server: BenchServer, f: PipelineFiles, transform: boolean, runAs: RunAs = 'service logins'): Promise<PipelineSamples> {
  const db = await server.create();
  const admin = server.env(db);
  let roles: string[] = [];
  try {
    check('migrate', await measure(node, [cli('migrate')], admin));
    const logins = runAs === 'service logins' ? serviceLogins(server, db) : { loader: admin, transform: admin, describe: 'the superuser', roles: [] };
    roles = logins.roles;
    const env = logins.transform;
    await checkpoint(server, db);
    const load = check('load', await measure(node, [cli('load'), '--quiet', f.file], logins.loader));
    const staged = Number((await server.sql(db, "select coalesce(sum(rows_staged), 0) as n from meta.loads where status = 'complete'")).rows[0].n);
    if (staged !== f.manifest.expected.rows_staged) throw new StepError(`npm run load staged ${staged} rows, expected ${f.manifest.expected.rows_staged}`);
    const out: PipelineSamples = { load: { seconds: load.seconds, peakRssMb: load.peakRssMb } };
    if (!transform) return out;
    try {
      check('load of the late day', await measure(node, [cli('load'), f.lateFile], logins.loader));
      await server.sql(db, `update meta.loads set status = 'failed' where source = '${f.lateFile.replace(/'/g, "''")}'`);
      await checkpoint(server, db);
      const full = check('transform --full', await measure(node, [cli('transform'), '--full'], env));
      out.full = { seconds: full.seconds, peakRssMb: full.peakRssMb };
      const { rows: runFiles } = await server.sql(db, 'select files from meta.transform_runs where is_full order by run_id desc limit 1');
      out.fullStages = stageTimes((runFiles[0]?.files ?? []) as { file: string; ms: number }[]);
      let expected = f.manifest.expected.rows_clean;
      if ((await coreRows(server, db)) !== expected) throw new StepError(`transform --full made ${await coreRows(server, db)} core rows, expected ${expected}`);
      const timed = async (what: string, args: string[], added: number): Promise<Sample> => {
        await checkpoint(server, db);
        const m = check(what, await measure(node, [cli('transform'), ...args], env));
        expected += added;
        const n = await coreRows(server, db);
        if (n !== expected) throw new StepError(`${what} left ${n} core rows, expected ${expected}`);
        const { rows } = await server.sql(db, 'select is_full from meta.transform_runs order by run_id desc limit 1');
        if (rows[0].is_full) throw new StepError(`${what} was a full rebuild`);
        return { seconds: m.seconds, peakRssMb: m.peakRssMb };
      };
      check('load of the extra day', await measure(node, [cli('load'), f.dayFile], logins.loader));
      out.incremental = await timed('transform (+1 day)', [], f.dayManifest.expected.rows_clean);
      await server.sql(db, `update meta.loads set status = 'complete' where source = '${f.lateFile.replace(/'/g, "''")}'`);
      out.late = await timed('transform (late old day)', [], f.lateManifest.expected.rows_clean);
      check('load --force of the extra day', await measure(node, [cli('load'), '--force', f.dayFile], logins.loader));
      out.force = await timed('transform (--force of a day)', [], 0);
      // a summary file changed (an upgrade of the project): only its downstream is rebuilt, from core
      const work = mkdtempSync(join(tmpdir(), 'bench-sql-'));
      try {
        cpSync(sqlDir, join(work, 'sql'), { recursive: true });
        appendFileSync(join(work, 'sql', CHANGED_SUMMARY_FILE), '\n-- changed (bench)\n');
        out.summaryChanged = await timed('transform (a summary file changed)', ['--sql-dir', join(work, 'sql')], 0);
        const { rows } = await server.sql(db, 'select rebuild_reason from meta.transform_runs order by run_id desc limit 1');
        if (!rows[0].rebuild_reason) throw new StepError(`transform after a change to sql/${CHANGED_SUMMARY_FILE} rebuilt nothing`);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    } catch (err) {
      if (!(err instanceof StepError)) throw err;
      out.error = err.message;
    }
    return out;
  } finally {
    await server.drop(db);
    await server.dropRoles(roles);
  }
}
