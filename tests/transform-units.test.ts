/** Pure parts of the transform runner: statement splitting, error formatting, file names, the full-rebuild rule. */
import { describe, expect, it } from 'vitest';

import { parseSqlFileName, pathOrder } from '../loader/transform/files.js';
import { changedFiles, fullReason, type PlanInput } from '../loader/transform/plan.js';
import { formatSqlError } from '../loader/transform/sql-error.js';
import { lineAndColumn, offsetOfPosition, splitStatements, statementMode } from '../loader/transform/statements.js';

describe('splitStatements', () => {
  it('splits on ; outside strings, identifiers, dollar bodies and comments, keeping offsets', () => {
    const sql = [
      "select 'a;b', \"x;y\", e'it\\'s;' from t; -- a comment; with ;",
      'create function f() returns int as $body$ select 1; $body$ language sql;',
      '/* block; /* nested; */ still; */ select $$;$$',
      '  ;  -- only a comment',
      '',
    ].join('\n');
    const parts = splitStatements(sql);
    expect(parts.map((p) => p.text.trim())).toEqual([
      "select 'a;b', \"x;y\", e'it\\'s;' from t",
      '-- a comment; with ;\ncreate function f() returns int as $body$ select 1; $body$ language sql',
      '/* block; /* nested; */ still; */ select $$;$$',
    ]);
    for (const p of parts) expect(sql.slice(p.start, p.start + p.text.length)).toBe(p.text);
  });

  it('reads the -- when: marker of a statement', () => {
    expect(statementMode('-- when: full\nalter table t drop constraint c')).toBe('full');
    expect(statementMode('-- why\n  -- when: incremental\ninsert into t select 1')).toBe('incremental');
    expect(statementMode('select 1 -- when: full is only meaningful on its own line')).toBeUndefined();
  });

  it('maps Postgres character positions (code points) and offsets to lines and columns', () => {
    expect(offsetOfPosition('é😀x', 3)).toBe(3); // é is 1 unit, 😀 is 2
    expect(lineAndColumn('ab\ncd\nef', 4)).toEqual({ line: 2, column: 2 });
  });
});

describe('formatSqlError', () => {
  it('names file, line and column, and puts a caret under the position in the statement', () => {
    const file = 'select 1;\n\nselect\n    amount,\n    nope\nfrom t;\n';
    const statement = splitStatements(file)[1]!;
    const position = statement.text.indexOf('nope') + 1; // what Postgres reports: 1-based, in the statement sent
    const msg = formatSqlError('sql/x.sql', file, statement, { message: 'column "nope" does not exist', code: '42703', position: String(position) });
    expect(msg.split('\n')).toEqual([
      'sql/x.sql:5:5: column "nope" does not exist (SQLSTATE 42703)',
      '3 | select',
      '4 |     amount,',
      '5 |     nope',
      '  |     ^',
      '6 | from t',
    ]);
  });

  it('without a position names the statement line and shows the statement', () => {
    const file = 'select 1;\nselect 1 / 0;\n';
    const msg = formatSqlError('sql/y.sql', file, splitStatements(file)[1]!, { message: 'division by zero', code: '22012' });
    expect(msg.split('\n')).toEqual(['sql/y.sql:2: division by zero (SQLSTATE 22012)', '2 | select 1 / 0']);
  });
});

describe('sql/ file names and order', () => {
  it('takes schema and object from <order>_<schema>.<object>.sql', () => {
    expect(parseSqlFileName('100_features.customer_features.sql')).toEqual({ schema: 'features', object: 'customer_features' });
    expect(parseSqlFileName('features.customer_features.sql')).toHaveProperty('error');
    expect(parseSqlFileName('100_Features.x.sql')).toHaveProperty('error');
  });

  it('orders by path, byte by byte', () => {
    expect(pathOrder(['sql/200_b.x.sql', 'sql/010_a.y.sql', 'sql/100_a.z.sql'])).toEqual(['sql/010_a.y.sql', 'sql/100_a.z.sql', 'sql/200_b.x.sql']);
  });
});

describe('fullReason', () => {
  const files = [
    { file: 'sql/010_core.transactions.sql', sha256: 'a', isStep: true },
    { file: 'sql/100_features.v.sql', sha256: 'b', isStep: false },
  ];
  const base: PlanInput = { requested: false, files, stored: new Map([['sql/010_core.transactions.sql', 'a'], ['sql/100_features.v.sql', 'b']]), processedNotComplete: [], pending: [7], maxProcessed: 6, processedComplete: 6 };

  it('is incremental when only new, later loads are pending (or a view changed)', () => {
    expect(fullReason(base)).toBeUndefined();
    expect(fullReason({ ...base, stored: new Map([...base.stored, ['sql/100_features.v.sql', 'old']]) })).toBeUndefined();
    expect(fullReason({ ...base, stored: new Map(), maxProcessed: undefined, pending: [] })).toBeUndefined(); // nothing at all
  });

  it('rebuilds only when asked, on the first transform, or when a step file changed', () => {
    expect(fullReason({ ...base, requested: true })).toBe('requested (--full)');
    expect(fullReason({ ...base, stored: new Map([['sql/010_core.transactions.sql', 'old']]) })).toBe('sql/010_core.transactions.sql changed');
    expect(fullReason({ ...base, stored: new Map(), maxProcessed: undefined, pending: [1, 2] })).toBe('first transform (core is empty)');
  });

  it('does not rebuild for a load that left or one that completed late: the step files correct core for them', () => {
    expect(fullReason({ ...base, processedNotComplete: [5, 3] })).toBeUndefined();
    expect(fullReason({ ...base, pending: [9, 4] })).toBeUndefined();
  });

  it('rebuilds when the batch is larger than what core holds, unless the incremental path is preferred', () => {
    const big = { ...base, pending: [7, 8, 9], processedComplete: 2 };
    expect(fullReason(big)).toBe('the batch (3 loads) is larger than what core holds (2): a rebuild costs less');
    expect(fullReason({ ...big, processedComplete: 3 })).toBeUndefined();
    expect(fullReason({ ...big, preferIncremental: true })).toBeUndefined();
  });

  it('lists the files whose text changed since applied', () => {
    expect([...changedFiles(files, new Map([['sql/010_core.transactions.sql', 'a']]))]).toEqual(['sql/100_features.v.sql']);
  });
});
