/**
 * Splitting a SQL file into statements (pure). Knows enough SQL lexing to find the `;` that end
 * statements: '…' strings (E'…' with backslash escapes), "…" identifiers, $tag$…$tag$ bodies,
 * -- and nested block comments. Each statement keeps its offset in the file, so that an error
 * position inside it maps back to a line and column of the file.
 */
export interface Statement {
  /** the statement's text, without its terminating `;` */
  text: string;
  /** offset of text[0] in the file (UTF-16 code units) */
  start: number;
}

export function splitStatements(sql: string): Statement[] {
  const out: Statement[] = [];
  let start = 0;
  let meaningful = false; // anything but blanks and comments since `start`
  let i = 0;
  const push = (end: number) => {
    if (meaningful) out.push({ text: sql.slice(start, end), start });
    meaningful = false;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const eol = sql.indexOf('\n', i);
      i = eol === -1 ? sql.length : eol + 1;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < sql.length && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') (depth++, (i += 2));
        else if (sql[i] === '*' && sql[i + 1] === '/') (depth--, (i += 2));
        else i++;
      }
    } else if (c === "'" || c === '"') {
      meaningful = true;
      const escapes = c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? '');
      i++;
      while (i < sql.length) {
        if (escapes && sql[i] === '\\') i += 2;
        else if (sql[i] === c && sql[i + 1] === c) i += 2;
        else if (sql[i] === c) break;
        else i++;
      }
      i++;
    } else if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      meaningful = true;
      const tag = /^\$([A-Za-z_][\w]*)?\$/.exec(sql.slice(i, i + 64));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close === -1 ? sql.length : close + tag[0].length;
      } else i++;
    } else if (c === ';') {
      push(i);
      i++;
      start = i;
    } else {
      if (!/\s/.test(c)) meaningful = true;
      i++;
    }
  }
  push(sql.length);
  return out;
}

/** 1-based line and column of a UTF-16 offset in text. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

/** Postgres positions count characters (code points) from 1; map one to a UTF-16 offset in text. */
export function offsetOfPosition(text: string, position: number): number {
  let offset = 0;
  let chars = 1;
  for (const ch of text) {
    if (chars >= position) break;
    offset += ch.length;
    chars++;
  }
  return offset;
}

/** A statement marked with a comment line `-- when: full` (or `incremental`) runs only in that kind of run. */
export function statementMode(text: string): 'full' | 'incremental' | undefined {
  const m = /^\s*--\s*when:\s*(full|incremental)\s*$/m.exec(text);
  return m ? (m[1] as 'full' | 'incremental') : undefined;
}
