/** Applying one sql/ file inside the run's transaction (I/O): run, create, refresh or skip it. */
import type { ClientBase } from 'pg';

import { EXIT, UserError } from '../errors.js';
import { dropObject, objectState, qualified } from './catalog.js';
import type { SqlFile } from './files.js';
import { formatSqlError, type PgErrorFields } from './sql-error.js';
import { splitStatements, statementMode } from './statements.js';

export type FileAction = 'run' | 'create' | 'refresh' | 'skip';

export interface FileResult {
  file: string;
  action: FileAction;
  ms: number;
  /** rows a step file inserted, updated or deleted, or rows in a (re)built or refreshed materialized view */
  rows: number | null;
  /** run again in full mode to rebuild what is downstream of a changed step file (index.ts, pass 2) */
  rebuild?: boolean;
}

export interface ApplyContext {
  /** a full rebuild: statements marked `-- when: incremental` are skipped (and the other way round) */
  full: boolean;
  /** the file's text differs from the one last applied */
  changed: boolean;
  /** core changed in this run (new loads, or a rebuild): materialized views must be refreshed */
  dataChanged: boolean;
}

function isPgError(err: unknown): err is PgErrorFields & Error {
  return typeof (err as { code?: unknown })?.code === 'string' && typeof (err as { severity?: unknown }).severity === 'string';
}

/** The statement is a plain insert into one of the run's temporary tables (leading comments aside). */
function intoTemp(text: string): boolean {
  return /^insert\s+into\s+pg_temp\./i.test(text.replace(/^(\s*--[^\n]*\n|\s+)*/, ''));
}

/** Run every statement of the file; a failure becomes a UserError naming file, line, column, with a caret. */
async function runStatements(c: ClientBase, f: SqlFile, full: boolean): Promise<number> {
  let rows = 0;
  for (const statement of splitStatements(f.text)) {
    const when = statementMode(statement.text);
    if (when && when !== (full ? 'full' : 'incremental')) continue;
    try {
      const r = await c.query(statement.text);
      // rows written to tables, not the run's own copies (a plain insert into a pg_temp table)
      if (/^(INSERT|UPDATE|DELETE|MERGE)$/.test(r.command) && !intoTemp(statement.text)) rows += r.rowCount ?? 0;
    } catch (err) {
      if (!isPgError(err)) throw err;
      throw new UserError(formatSqlError(f.file, f.text, statement, err), EXIT.failed);
    }
  }
  return rows;
}

async function refresh(c: ClientBase, f: SqlFile, concurrently: boolean): Promise<number> {
  const name = qualified(f.schema, f.object);
  const sql = `refresh materialized view ${concurrently ? 'concurrently ' : ''}${name}`;
  try {
    await c.query(sql);
  } catch (err) {
    if (!isPgError(err)) throw err;
    const text = `${sql}\n`;
    throw new UserError(formatSqlError(`${f.file} (${sql})`, text, { text, start: 0 }, err), EXIT.failed);
  }
  return countRows(c, f);
}

async function countRows(c: ClientBase, f: SqlFile): Promise<number> {
  const { rows } = await c.query<{ n: number }>(`select count(*)::bigint as n from ${qualified(f.schema, f.object)}`);
  return Number(rows[0]!.n);
}

export async function applyFile(c: ClientBase, f: SqlFile, ctx: ApplyContext): Promise<FileResult> {
  const started = performance.now();
  const done = (action: FileAction, rows: number | null): FileResult => ({ file: f.file, action, ms: Math.round(performance.now() - started), rows });
  if (f.schema === 'pg_temp') return done('run', await runStatements(c, f, ctx.full));
  const before = await objectState(c, f.schema, f.object);
  if (before?.kind === 'table') return done('run', await runStatements(c, f, ctx.full));
  if (before && !ctx.changed) {
    if (before.kind !== 'matview' || (!ctx.dataChanged && before.populated)) return done('skip', null);
    return done('refresh', await refresh(c, f, before.populated));
  }
  // new or changed: drop what the file defined (and, by cascade, its dependents: their files come later
  // in path order and find their object missing, so they are recreated too), then run the file
  if (before) await dropObject(c, f.schema, f.object, before.kind);
  await runStatements(c, f, ctx.full);
  const after = await objectState(c, f.schema, f.object);
  if (!after) throw new UserError(`${f.file}: ran, but did not create ${f.schema}.${f.object} (a file defines the object it is named after)`, EXIT.failed);
  if (after.kind === 'matview') return done('create', after.populated ? await countRows(c, f) : await refresh(c, f, false));
  return done('create', null);
}
