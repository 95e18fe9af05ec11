/** The bundled dataset through the CLI (what `npm start` runs): contract §5 figures, and a second run that stages nothing. */
import { readdirSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { bundledDataDir } from '../loader/paths.js';
import { freshDatabase } from './support/db.js';
import { expectAccounted, runLoad } from './support/load.js';

describe('bundled Online Retail data', () => {
  it('loads 305 files, 541,909 rows, none rejected; a second run skips every file', async () => {
    const db = await freshDatabase();
    const files = readdirSync(bundledDataDir).filter((f) => f.endsWith('.csv.gz'));
    expect(files.length).toBe(305);

    const first = await runLoad(db, ['--json']);
    expect([first.code, first.stderr]).toEqual([0, '']);
    expect(JSON.parse(first.stdout)).toMatchObject({ sources: 305, loaded: 305, skipped: 0, failed: 0, rowsStaged: 541909, rowsRejected: 0 });
    const count = async () =>
      (await db.pool.query(`select (select count(*) from meta.loads where status = 'complete')::int as loads, (select count(*) from staging.transactions)::int as rows`)).rows[0];
    expect(await count()).toEqual({ loads: 305, rows: 541909 });
    await expectAccounted(db);

    const second = await runLoad(db, ['--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ sources: 305, loaded: 0, skipped: 305, failed: 0, rowsStaged: 0 });
    expect(await count()).toEqual({ loads: 305, rows: 541909 });
  });
});
