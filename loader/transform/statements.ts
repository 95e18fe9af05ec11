/**
 * Splitting a SQL file into statements (pure). Knows enough SQL lexing (sqlSegments) to find the `;` that
 * end statements: '…' strings (E'…' with backslash escapes), "…" identifiers, $tag$…$tag$ bodies, -- and
 * nested block comments. Each statement keeps its offset in the file, so that an error position inside it
 * maps back to a line and column of the file. deps.ts reads the same segments.
 */
export interface Statement {
  /** the statement's text, without its terminating `;` */
  text: string;
  /** offset of text[0] in the file (UTF-16 code units) */
  start: number;
}

/** A piece of SQL text, [start, end): a comment, a '…' string, a "…" identifier, a $tag$…$tag$ body, or code. */
export interface Segment {
  kind: 'comment' | 'string' | 'identifier' | 'dollar' | 'code';
  start: number;
  end: number;
}

/**
 * The text cut into segments: -- and nested block comments, '…' strings (E'…' with backslash escapes),
 * "…" identifiers, $tag$…$tag$ bodies, and the code between them. An unterminated one runs to the end.
 */
export function sqlSegments(sql: string): Segment[] {
  const out: Segment[] = [];
  let code = 0; // start of the code not yet pushed
  let i = 0;
  const push = (kind: Segment['kind'], start: number, end: number) => {
    if (code < start) out.push({ kind: 'code', start: code, end: start });
    out.push({ kind, start, end });
    code = end;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const eol = sql.indexOf('\n', i);
      const end = eol === -1 ? sql.length : eol;
      push('comment', i, end);
      i = end;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < sql.length && depth > 0) {
        if (sql[j] === '/' && sql[j + 1] === '*') (depth++, (j += 2));
        else if (sql[j] === '*' && sql[j + 1] === '/') (depth--, (j += 2));
        else j++;
      }
      push('comment', i, Math.min(j, sql.length));
      i = Math.min(j, sql.length);
    } else if (c === "'" || c === '"') {
      const escapes = c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? '');
      let j = i + 1;
      while (j < sql.length) {
        if (escapes && sql[j] === '\\') j += 2;
        else if (sql[j] === c && sql[j + 1] === c) j += 2;
        else if (sql[j] === c) break;
        else j++;
      }
      const end = Math.min(j + 1, sql.length);
      push(c === "'" ? 'string' : 'identifier', i, end);
      i = end;
    } else if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$([A-Za-z_][\w]*)?\$/.exec(sql.slice(i, i + 64));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        const end = close === -1 ? sql.length : close + tag[0].length;
        push('dollar', i, end);
        i = end;
      } else i++;
    } else i++;
  }
  if (code < sql.length) out.push({ kind: 'code', start: code, end: sql.length });
  return out;
}

export function splitStatements(sql: string): Statement[] {
  const out: Statement[] = [];
  let start = 0;
  let meaningful = false; // anything but blanks and comments since `start`
  const push = (end: number) => {
    if (meaningful) out.push({ text: sql.slice(start, end), start });
    meaningful = false;
  };
  for (const seg of sqlSegments(sql)) {
    if (seg.kind === 'comment') continue;
    if (seg.kind !== 'code') {
      meaningful = true;
      continue;
    }
    for (let i = seg.start; i < seg.end; i++) {
      const c = sql[i]!;
      if (c === ';') {
        push(i);
        start = i + 1;
      } else if (!/\s/.test(c)) meaningful = true;
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
