/** Helpers for the loader's integration tests: run the CLI, read the ledger, check the accounting. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

import pg from 'pg';
import { expect } from 'vitest';

import { projectRoot } from '../../loader/paths.js';
import type { TestDatabase } from './db.js';

// bigint counts and ids as numbers, as loader/db.ts reads them
pg.types.setTypeParser(20, (v: string) => Number(v));

export const loadCli = join(projectRoot, 'dist', 'loader', 'cli', 'load.js');

export interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Run `node dist/loader/cli/load.js args` against the test database; `input` is piped to stdin. */
export function runLoad(db: TestDatabase, args: string[], options: { input?: Buffer | string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [loadCli, ...args], { cwd: projectRoot, env: { ...db.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

export interface LoadRow {
  load_id: number;
  source: string;
  sha256: string | null;
  status: string;
  rows_read: number | null;
  rows_staged: number | null;
  rows_rejected: number | null;
  error: string | null;
}

export async function loads(db: TestDatabase): Promise<LoadRow[]> {
  const { rows } = await db.pool.query<LoadRow>(
    'select load_id, source, sha256, status, rows_read, rows_staged, rows_rejected, error from meta.loads order by load_id',
  );
  return rows;
}

/**
 * The accounting invariant, checked independently of the loader's own counts: for every complete
 * load, rows_read = rows_staged + rows_rejected, and the rows really in staging / rejects match;
 * a load that is not complete has no rows at all; line numbers are unique within a load.
 */
export async function expectAccounted(db: TestDatabase): Promise<void> {
  const { rows } = await db.pool.query<{ load_id: number; status: string; rows_read: number; rows_staged: number; rows_rejected: number; staged: number; rejected: number; lines: number }>(
    `with staged as (
       select load_id, count(*) as staged, count(distinct line_no) as lines from staging.transactions group by load_id
     ),
     rejected as (
       select load_id, count(*) as rejected from staging.load_rejects group by load_id
     )
     select l.load_id, l.status, l.rows_read, l.rows_staged, l.rows_rejected,
            coalesce(s.staged, 0) as staged, coalesce(r.rejected, 0) as rejected, coalesce(s.lines, 0) + coalesce(r.rejected, 0) as lines
       from meta.loads as l
       left join staged as s on s.load_id = l.load_id
       left join rejected as r on r.load_id = l.load_id`,
  );
  for (const r of rows) {
    if (r.status === 'complete') {
      expect(r.rows_read, `load ${r.load_id}`).toBe(r.rows_staged + r.rows_rejected);
      expect({ load: r.load_id, staged: r.staged, rejected: r.rejected, lines: r.lines }).toEqual({
        load: r.load_id,
        staged: r.rows_staged,
        rejected: r.rows_rejected,
        lines: r.rows_read,
      });
    } else if (r.status === 'failed') {
      expect({ load: r.load_id, staged: r.staged, rejected: r.rejected }).toEqual({ load: r.load_id, staged: 0, rejected: 0 });
    }
  }
  const { rows: orphans } = await db.pool.query<{ n: number }>(
    'select count(*) as n from staging.transactions where load_id not in (select load_id from meta.loads)',
  );
  expect(orphans[0]!.n).toBe(0);
}
