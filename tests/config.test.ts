import { describe, expect, it } from 'vitest';

import { DEFAULT_EMBEDDED_PORT, describeTarget, redactUrl, resolveDbTarget } from '../loader/config.js';

describe('resolveDbTarget', () => {
  it('uses DATABASE_URL first, even when PG* variables are set', () => {
    const t = resolveDbTarget({ DATABASE_URL: 'postgres://u:p@h:5/db', PGHOST: 'other' }, '/p');
    expect(t).toEqual({ kind: 'url', connectionString: 'postgres://u:p@h:5/db' });
  });

  it('uses the libpq PG* variables when PGHOST is set and DATABASE_URL is not', () => {
    expect(resolveDbTarget({ PGHOST: 'db.internal', PGUSER: 'x' }, '/p')).toEqual({ kind: 'libpq' });
    expect(resolveDbTarget({ DATABASE_URL: '  ', PGHOST: 'db' }, '/p')).toEqual({ kind: 'libpq' });
  });

  it('falls back to the embedded server under .data/postgres on the default port', () => {
    expect(resolveDbTarget({ PGUSER: 'x' }, '/p')).toEqual({ kind: 'embedded', port: DEFAULT_EMBEDDED_PORT, dataDir: '/p/.data/postgres', database: 'retail' });
    expect(DEFAULT_EMBEDDED_PORT).not.toBe(5432);
  });

  it('takes EMBEDDED_PG_PORT and EMBEDDED_PG_DATA', () => {
    const t = resolveDbTarget({ EMBEDDED_PG_PORT: '6001', EMBEDDED_PG_DATA: 'tmp/pg' }, '/p');
    expect(t).toMatchObject({ kind: 'embedded', port: 6001, dataDir: '/p/tmp/pg' });
  });

  it('rejects a bad port or URL with a usage error naming the variable', () => {
    for (const port of ['0', '70000', 'abc', '5432.5']) {
      expect(() => resolveDbTarget({ EMBEDDED_PG_PORT: port }, '/p')).toThrow(/EMBEDDED_PG_PORT/);
    }
    expect(() => resolveDbTarget({ DATABASE_URL: 'mysql://x' }, '/p')).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});

describe('describing a target never shows a password', () => {
  it('masks the password of a URL', () => {
    expect(redactUrl('postgres://user:s3cret@host:5432/db')).toBe('postgres://user:***@host:5432/db');
    expect(redactUrl('postgresql://user@host/db')).toBe('postgresql://user@host/db');
    expect(describeTarget({ kind: 'url', connectionString: 'postgres://a:b@c/d' })).not.toContain(':b@');
  });
});
