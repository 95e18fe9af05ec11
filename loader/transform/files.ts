/**
 * The sql/ folder: which files, in which order, defining which object. A file is named
 * `<order>_<schema>.<object>.sql` (e.g. `100_features.customer_features.sql`) and defines (or, for a
 * table owned by a migration, fills) that one object. Files run in path order (byte order of the path).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

import { UserError } from '../errors.js';

export interface SqlFile {
  /** path relative to the project root, e.g. sql/100_features.customer_features.sql */
  file: string;
  schema: string;
  object: string;
  text: string;
  sha256: string;
}

const NAME = /^[0-9]+_([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\.sql$/;

/** schema and object named by a file name, or a reason it is not a valid sql/ file name. */
export function parseSqlFileName(name: string): { schema: string; object: string } | { error: string } {
  const m = NAME.exec(name);
  if (!m) return { error: `expected <order>_<schema>.<object>.sql, e.g. 100_features.customer_features.sql` };
  return { schema: m[1]!, object: m[2]! };
}

/** Path order: byte order of the relative path (zero-padded order prefixes sort as numbers). */
export function pathOrder(paths: string[]): string[] {
  return [...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new UserError(`no sql/ folder at ${dir}`);
    throw err;
  });
  const out: string[] = [];
  for (const e of entries) {
    if (e.isDirectory()) out.push(...(await walk(join(dir, e.name))));
    else if (e.name.endsWith('.sql')) out.push(join(dir, e.name));
  }
  return out;
}

/** Every .sql file under dir (recursively), in path order, with its object and hash. */
export async function readSqlFiles(dir: string, root: string): Promise<SqlFile[]> {
  const paths = pathOrder((await walk(dir)).map((p) => relative(root, p).split('\\').join('/')));
  const files: SqlFile[] = [];
  const seen = new Map<string, string>();
  for (const file of paths) {
    const parsed = parseSqlFileName(file.slice(file.lastIndexOf('/') + 1));
    if ('error' in parsed) throw new UserError(`${file}: ${parsed.error}`);
    const name = `${parsed.schema}.${parsed.object}`;
    const other = seen.get(name);
    if (other) throw new UserError(`${file}: ${name} is already defined by ${other}`);
    seen.set(name, file);
    const text = await readFile(join(root, file), 'utf8');
    files.push({ file, ...parsed, text, sha256: sha256(text) });
  }
  return files;
}
