/**
 * The message of a failed sql/ file (pure): names the file, the line and column of Postgres' error
 * position, the reason, and shows the failing statement with a caret under the position.
 */
import { lineAndColumn, offsetOfPosition, type Statement } from './statements.js';

export interface PgErrorFields {
  message: string;
  code?: string;
  position?: string;
  internalPosition?: string;
  internalQuery?: string;
  detail?: string;
  hint?: string;
  where?: string;
}

const CONTEXT_LINES = 6;

/** Lines of `text` (starting at file line `firstLine`) with a caret under `caretOffset`, trimmed to a window. */
function excerpt(text: string, firstLine: number, caretOffset: number | undefined): string[] {
  const lines = text.replace(/\s+$/, '').split('\n');
  const at = caretOffset === undefined ? undefined : lineAndColumn(text, caretOffset);
  let from = 0;
  let to = lines.length;
  while (from < to && lines[from]!.trim() === '') from++;
  if (at) {
    from = Math.max(from, at.line - 1 - CONTEXT_LINES);
    to = Math.min(to, at.line + CONTEXT_LINES);
  } else to = Math.min(to, from + 2 * CONTEXT_LINES);
  const width = String(firstLine + to).length;
  const out: string[] = [];
  for (let n = from; n < to; n++) {
    out.push(`${String(firstLine + n).padStart(width)} | ${lines[n]}`);
    if (at && n === at.line - 1) out.push(`${' '.repeat(width)} | ${' '.repeat(at.column - 1)}^`);
  }
  if (to < lines.length) out.push(`${' '.repeat(width)} | …`);
  return out;
}

export function formatSqlError(file: string, fileText: string, statement: Statement, err: PgErrorFields): string {
  const stmtLine = lineAndColumn(fileText, statement.start).line;
  let where = file;
  let shown: string[];
  if (err.position) {
    const offset = statement.start + offsetOfPosition(statement.text, Number(err.position));
    const { line, column } = lineAndColumn(fileText, offset);
    where = `${file}:${line}:${column}`;
    shown = excerpt(statement.text, stmtLine, offset - statement.start);
  } else {
    where = `${file}:${lineAndColumn(fileText, statement.start + (statement.text.length - statement.text.trimStart().length)).line}`;
    shown = excerpt(statement.text, stmtLine, undefined);
  }
  const parts = [`${where}: ${err.message}${err.code ? ` (SQLSTATE ${err.code})` : ''}`, ...shown];
  if (err.internalQuery) {
    parts.push('  in the query run by this statement:');
    const pos = err.internalPosition ? offsetOfPosition(err.internalQuery, Number(err.internalPosition)) : undefined;
    parts.push(...excerpt(err.internalQuery, 1, pos).map((l) => `    ${l}`));
  }
  if (err.detail) parts.push(`DETAIL: ${err.detail}`);
  if (err.hint) parts.push(`HINT: ${err.hint}`);
  return parts.join('\n');
}
