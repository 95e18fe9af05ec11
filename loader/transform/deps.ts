/**
 * What each sql/ file reads and writes, derived from its text (pure), and from that what a changed step
 * file makes the run rebuild. No header to keep up to date: a file's dependencies are the relations it
 * names.
 *
 *   - reads: every qualified name `schema.object` of a pipeline schema (staging, core, meta, features,
 *     pg_temp) outside comments and string literals (inside $$ bodies too: a function's body reads);
 *   - writes: the object the file is named after, every object it creates (`create temp table x` is
 *     always pg_temp.x; `create view|materialized view|function|table schema.x`), and every table it changes (`insert into`,
 *     `merge into`, `delete from`, `update`, `truncate`).
 *
 * A changed step file rebuilds its own objects and every object downstream of them (readers of what it
 * writes, transitively); the temporary tables those read are made again in full mode too (they are the
 * run's, derived from the changes). One temporary object has a second form read from core instead of the
 * batch: pg_temp.transform_changes, which in a full rebuild is every row that came into core (+1), i.e.
 * after the run every row of core.transactions. Whatever else a rebuild needs that only staging gives
 * (the parse, the dedup: a file that reads staging.*) makes the run a full rebuild, as before.
 */
import { sqlSegments } from './statements.js';

export interface DepFile {
  file: string;
  schema: string;
  object: string;
  text: string;
  /** fills a table owned by a migration, or makes one of the run's temporary tables */
  isStep: boolean;
}

export interface FileDeps {
  reads: Set<string>;
  writes: Set<string>;
}

const SCHEMAS = ['staging', 'core', 'meta', 'features', 'pg_temp'];
const IDENT = '[a-z_][a-z0-9_]*';

/**
 * The text with comments and '…' string literals blanked out (same length); the code of $$ bodies kept, with
 * their own comments and strings blanked (a function's body reads what it names).
 */
export function codeOnly(sql: string): string {
  let out = '';
  for (const seg of sqlSegments(sql)) {
    const text = sql.slice(seg.start, seg.end);
    if (seg.kind === 'comment' || seg.kind === 'string') out += ' '.repeat(text.length);
    else if (seg.kind === 'dollar') {
      const tag = /^\$[A-Za-z_\w]*\$/.exec(text)![0];
      const closed = text.length >= 2 * tag.length && text.endsWith(tag);
      const body = text.slice(tag.length, closed ? text.length - tag.length : text.length);
      out += tag + codeOnly(body) + (closed ? tag : '');
    } else out += text;
  }
  return out;
}

export function fileDeps(f: Pick<DepFile, 'schema' | 'object' | 'text'>): FileDeps {
  const code = codeOnly(f.text).toLowerCase();
  const reads = new Set<string>();
  for (const m of code.matchAll(new RegExp(`\\b(${SCHEMAS.join('|')})\\s*\\.\\s*(${IDENT})\\b`, 'g'))) reads.add(`${m[1]}.${m[2]}`);
  const writes = new Set<string>([`${f.schema}.${f.object}`]);
  const temp = new RegExp(`\\bcreate\\s+(?:or\\s+replace\\s+)?(?:temp|temporary)\\s+(?:table|view)\\s+(?:if\\s+not\\s+exists\\s+)?(?:pg_temp\\s*\\.\\s*)?(${IDENT})`, 'g');
  for (const m of code.matchAll(temp)) writes.add(`pg_temp.${m[1]}`);
  const created = new RegExp(`\\bcreate\\s+(?:or\\s+replace\\s+)?(?:materialized\\s+view|view|function|procedure|table)\\s+(?:if\\s+not\\s+exists\\s+)?(${SCHEMAS.join('|')})\\s*\\.\\s*(${IDENT})\\b`, 'g');
  for (const m of code.matchAll(created)) writes.add(`${m[1]}.${m[2]}`);
  const dml = new RegExp(`\\b(?:insert\\s+into|merge\\s+into|delete\\s+from|update|truncate(?:\\s+table)?)\\s+(?:only\\s+)?(${SCHEMAS.join('|')})\\s*\\.\\s*(${IDENT})\\b`, 'g');
  for (const m of code.matchAll(dml)) writes.add(`${m[1]}.${m[2]}`);
  return { reads, writes };
}

/**
 * Temporary objects made from core rather than from the batch: in a full rebuild they are exactly this
 * (every row that came into core, +1), with the columns of the object the batch's run made (sql/015's
 * table), each taken from the source's column of that name or from `constants`. A selective rebuild makes
 * them before its files run; a full rebuild right after the file that fills the source (sql/015 then writes
 * no changes of its own: each row is written once, to core). On PostgreSQL a temporary view over core (no
 * copy); on Citus a temporary table, read once from core: a step's MERGE must not read a distributed
 * table, and core.transactions is one.
 */
export const FROM_CORE: ReadonlyMap<string, { source: string; constants: Readonly<Record<string, string>> }> = new Map([
  ['pg_temp.transform_changes', { source: 'core.transactions', constants: { sign: '1' } }],
]);

/** The statement that makes a FROM_CORE object, given the columns (name, type) it must have, in order. */
export function fromCoreSql(name: string, columns: { name: string; type: string }[], sourceColumns: ReadonlySet<string>, form: 'view' | 'table'): string {
  const spec = FROM_CORE.get(name);
  if (!spec) throw new Error(`${name} has no form read from core`);
  const alias = 'source';
  const list = columns.map((c) => {
    const constant = spec.constants[c.name];
    if (constant !== undefined) return `${constant}::${c.type} as ${quoteName(c.name)}`;
    if (!sourceColumns.has(c.name)) throw new Error(`cannot make ${name} from ${spec.source}: it has no column ${c.name}`);
    return `${alias}.${quoteName(c.name)}`;
  });
  const object = name.slice(name.indexOf('.') + 1);
  const create = form === 'table' ? `create temp table ${quoteName(object)} on commit drop` : `create temp view ${quoteName(object)}`;
  return `${create} as\nselect ${list.join(', ')}\nfrom ${spec.source} as ${alias}`;
}

function quoteName(n: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(n) ? n : `"${n.replace(/"/g, '""')}"`;
}

/**
 * A temporary relation named without its schema (`from transform_changes`: pg_temp is on every search_path)
 * is a read too: for each temporary object some file makes, its bare name used as a relation (not `x.name`,
 * not `name.column`, not `as name`, not a CTE `name as (`). Over-reading only rebuilds more; a missed read
 * would leave a table stale. (Tables of core, meta, … are not on the steps' search_path: always qualified.
 * Their bare names are also column names — customers, products, days — so looking for them would over-read.)
 */
function addUnqualifiedReads(files: DepFile[], deps: Map<string, FileDeps>): void {
  const objects = new Set<string>();
  for (const d of deps.values()) for (const o of d.writes) if (o.startsWith('pg_temp.')) objects.add(o);
  for (const f of files) {
    const code = codeOnly(f.text).toLowerCase();
    const d = deps.get(f.file)!;
    for (const o of objects) {
      if (d.reads.has(o) || d.writes.has(o)) continue;
      const name = o.slice(o.indexOf('.') + 1);
      if (new RegExp(`(?<![.\\w$])(?<!\\bas\\s+)${name}\\b(?!\\s*\\.)(?!\\s+as\\s*\\()`).test(code)) d.reads.add(o);
    }
  }
}

export type RebuildDecision =
  | { kind: 'none' }
  | { kind: 'full'; reason: string }
  | { kind: 'selective'; plan: RebuildPlan };

export interface RebuildPlan {
  /** the files whose text changed, in path order */
  changed: string[];
  /** the changed step files and every file downstream of them, in path order: rebuilt (steps) or refreshed (views) */
  downstream: string[];
  /** step files run again in full mode because a rebuilt file reads their temporary tables (not downstream: unchanged) */
  rerun: string[];
  /** the tables emptied and filled again (the persistent objects the downstream steps write) */
  tables: string[];
  /** the temporary objects made from core for the rebuild */
  fromCore: string[];
  /** one line: what changed and what it rebuilds */
  reason: string;
}

/** What the changed files (text differs from `stored`) make the run rebuild: nothing, everything, or a part. */
export function rebuildDecision(files: DepFile[], stored: ReadonlyMap<string, string>, sha: (f: DepFile) => string): RebuildDecision {
  const changed = files.filter((f) => stored.get(f.file) !== sha(f));
  if (!changed.some((f) => f.isStep)) return { kind: 'none' };
  const deps = new Map(files.map((f) => [f.file, fileDeps(f)]));
  addUnqualifiedReads(files, deps);
  const index = new Map(files.map((f, i) => [f.file, i]));
  const writers = new Map<string, DepFile[]>();
  for (const f of files) for (const o of deps.get(f.file)!.writes) writers.set(o, [...(writers.get(o) ?? []), f]);
  const isTemp = (o: string) => o.startsWith('pg_temp.');

  const down = new Set<string>(changed.map((f) => f.file));
  const rerun = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    const add = (set: Set<string>, file: string) => {
      if (!set.has(file)) (set.add(file), (grew = true));
    };
    for (const f of files) {
      const d = deps.get(f.file)!;
      if (down.has(f.file)) {
        // every writer of a table it fills is rebuilt with it (the table is emptied)
        for (const o of d.writes) if (!isTemp(o)) for (const w of writers.get(o) ?? []) if (w.isStep) add(down, w.file);
      } else if ([...d.reads].some((o) => (writers.get(o) ?? []).some((w) => down.has(w.file) && w.file !== f.file))) {
        add(down, f.file);
      }
    }
    for (const f of files) {
      if (!f.isStep || !(down.has(f.file) || rerun.has(f.file))) continue;
      for (const o of deps.get(f.file)!.reads) {
        for (const w of writers.get(o) ?? []) {
          if (w.file === f.file || !w.isStep) continue;
          if (isTemp(o)) {
            // a temporary input of a rebuilt step is made again in full mode, unless core gives it
            if (!FROM_CORE.has(o) && !down.has(w.file)) add(rerun, w.file);
          } else if (index.get(w.file)! > index.get(f.file)! && !down.has(w.file)) {
            // it reads a table filled later in path order (the last run's state, empty in a full rebuild): rebuilt too
            add(down, w.file);
          }
        }
      }
    }
    for (const file of down) rerun.delete(file);
  }

  const order = (set: Set<string>) => files.filter((f) => set.has(f.file));
  const rebuilt = order(new Set([...down, ...rerun])).filter((f) => f.isStep);
  const first = changed.find((f) => f.isStep)!;
  // what only staging gives: the run is a full rebuild
  for (const f of rebuilt) {
    const staging = [...deps.get(f.file)!.reads].find((o) => o.startsWith('staging.'));
    if (staging) {
      const via = f.file === first.file ? '' : ` needs ${f.file}, which`;
      return { kind: 'full', reason: `${first.file} changed:${via || ' it'} reads ${staging} (a rebuild from every staged row)` };
    }
    for (const [temp, { source }] of FROM_CORE) {
      if (deps.get(f.file)!.writes.has(source)) {
        const via = f.file === first.file ? ' it' : ` needs ${f.file}, which`;
        return { kind: 'full', reason: `${first.file} changed:${via} fills ${source} (${temp} is read from it otherwise)` };
      }
    }
  }
  const tables = [...new Set(order(down).filter((f) => f.isStep).flatMap((f) => [...deps.get(f.file)!.writes].filter((o) => !isTemp(o))))];
  const fromCore = [...new Set(rebuilt.flatMap((f) => [...deps.get(f.file)!.reads].filter((o) => FROM_CORE.has(o))))];
  const changedSteps = changed.filter((f) => f.isStep).map((f) => f.file);
  const reason = `${changedSteps.join(', ')} changed: rebuilds ${tables.length ? tables.join(', ') : 'no table'} from core`;
  return {
    kind: 'selective',
    plan: {
      changed: changed.map((f) => f.file),
      downstream: order(down).map((f) => f.file),
      rerun: order(rerun).map((f) => f.file),
      tables,
      fromCore,
      reason,
    },
  };
}
