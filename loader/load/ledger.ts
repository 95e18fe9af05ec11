/**
 * meta.loads: claiming a file, cleaning up abandoned loads, completing or failing a load.
 *
 * A load's row is inserted as 'running' and committed at once; the unique index loads_sha256_running
 * lets only one session run a given sha256. The session that runs a load holds a session-level
 * advisory lock on it, taken before the row becomes visible: a running row whose lock is free was
 * abandoned (kill -9, lost connection) and is cleaned up by whoever finds it.
 */
import type pg from 'pg';

import type { Reject } from './scan.js';

/** Advisory lock namespace ("LOAD"); the second key is the load_id. */
const LOCK_NS = 0x4c4f4144;
const lockArgs = `${LOCK_NS}, mod($1::bigint, 2147483648)::int`;

export async function findComplete(c: pg.ClientBase, sha256: string): Promise<number | undefined> {
  const { rows } = await c.query<{ load_id: number }>(`select load_id from meta.loads where sha256 = $1 and status = 'complete'`, [sha256]);
  return rows[0]?.load_id;
}

export type Claim = { loadId: number } | { busy: number } | { complete: number };

/** Claim a source: insert its running row (and lock it), or say who has it. */
export async function claimLoad(c: pg.ClientBase, load: { source: string; sha256?: string; byteSize?: number; force: boolean }): Promise<Claim> {
  for (let attempt = 0; ; attempt++) {
    try {
      await c.query('begin');
      const { rows } = await c.query<{ load_id: number }>(
        `insert into meta.loads (source, sha256, byte_size) values ($1, $2, $3) returning load_id`,
        [load.source, load.sha256 ?? null, load.byteSize ?? null],
      );
      const loadId = rows[0]!.load_id;
      await c.query(`select pg_advisory_lock(${lockArgs})`, [loadId]);
      // checked after the insert: a load completed meanwhile is seen (the insert waited for it)
      const done = load.sha256 && !load.force ? await findComplete(c, load.sha256) : undefined;
      if (done !== undefined) {
        await c.query('rollback');
        await release(c, loadId);
        return { complete: done };
      }
      await c.query('commit');
      return { loadId };
    } catch (err) {
      await c.query('rollback').catch(() => undefined);
      if ((err as { code?: string }).code !== '23505' || !load.sha256 || attempt >= 5) throw err;
    }
    const { rows } = await c.query<{ load_id: number }>(`select load_id from meta.loads where sha256 = $1 and status = 'running'`, [load.sha256]);
    const other = rows[0]?.load_id;
    if (other !== undefined && !(await cleanIfAbandoned(c, other))) return { busy: other };
  }
}

/**
 * Give a running load (claimed before its hash was known) its sha256: the unique index on running
 * loads decides between two sessions loading the same bytes, before either commits a row.
 */
export async function claimSha(c: pg.ClientBase, loadId: number, sha256: string, force: boolean): Promise<Claim> {
  for (let attempt = 0; ; attempt++) {
    try {
      await c.query('begin');
      await c.query('update meta.loads set sha256 = $2 where load_id = $1', [loadId, sha256]);
      const done = force ? undefined : await findComplete(c, sha256);
      if (done !== undefined) {
        await c.query('rollback');
        return { complete: done };
      }
      await c.query('commit');
      return { loadId };
    } catch (err) {
      await c.query('rollback').catch(() => undefined);
      if ((err as { code?: string }).code !== '23505' || attempt >= 5) throw err;
    }
    const { rows } = await c.query<{ load_id: number }>(`select load_id from meta.loads where sha256 = $1 and status = 'running' and load_id <> $2`, [sha256, loadId]);
    const other = rows[0]?.load_id;
    if (other !== undefined && !(await cleanIfAbandoned(c, other))) return { busy: other };
  }
}

/** If nobody holds the lock of this running load, mark it failed and delete what it staged. */
export async function cleanIfAbandoned(c: pg.ClientBase, loadId: number): Promise<boolean> {
  const { rows } = await c.query<{ ok: boolean }>(`select pg_try_advisory_lock(${lockArgs}) as ok`, [loadId]);
  if (!rows[0]!.ok) return false;
  try {
    await failLoad(c, loadId, 'abandoned: the loading process ended before the load completed (killed or disconnected); its staged rows were removed');
  } finally {
    await release(c, loadId);
  }
  return true;
}

/** Clean every abandoned running load (of any source); returns their ids. */
export async function sweepAbandoned(c: pg.ClientBase): Promise<number[]> {
  const { rows } = await c.query<{ load_id: number }>(`select load_id from meta.loads where status = 'running' order by load_id`);
  const cleaned: number[] = [];
  for (const r of rows) if (await cleanIfAbandoned(c, r.load_id)) cleaned.push(r.load_id);
  return cleaned;
}

async function deleteRows(c: pg.ClientBase, loadIds: number[]): Promise<void> {
  await c.query('delete from staging.transactions where load_id = any($1::bigint[])', [loadIds]);
  await c.query('delete from staging.load_rejects where load_id = any($1::bigint[])', [loadIds]);
}

/**
 * One transaction: a running load becomes failed, and what it staged and rejected is deleted. A load that
 * is no longer running (it completed after a sweep listed it) keeps its rows.
 */
export async function failLoad(c: pg.ClientBase, loadId: number, error: string): Promise<void> {
  await transaction(c, async () => {
    const res = await c.query(`update meta.loads set status = 'failed', finished_at = now(), error = $2 where load_id = $1 and status = 'running'`, [loadId, error]);
    if (res.rowCount === 1) await deleteRows(c, [loadId]);
  });
}

/** A stream whose bytes turned out to be loaded already: the attempt leaves no trace. */
export async function discardLoad(c: pg.ClientBase, loadId: number): Promise<void> {
  await transaction(c, async () => {
    await deleteRows(c, [loadId]);
    await c.query('delete from meta.loads where load_id = $1', [loadId]);
  });
}

export async function release(c: pg.ClientBase, loadId: number): Promise<void> {
  await c.query(`select pg_advisory_unlock(${lockArgs})`, [loadId]);
}

export async function insertRejects(c: pg.ClientBase, loadId: number, rejects: Reject[]): Promise<number> {
  if (rejects.length === 0) return 0;
  const res = await c.query(
    `insert into staging.load_rejects (load_id, line_no, raw, reason)
     select $1, line_no, raw, reason from unnest($2::bigint[], $3::bytea[], $4::text[]) as r (line_no, raw, reason)`,
    [loadId, rejects.map((r) => r.lineNo), rejects.map((r) => r.raw), rejects.map((r) => r.reason)],
  );
  return res.rowCount ?? 0;
}

export interface Counts { rowsRead: number; rowsStaged: number; rowsRejected: number; byteSize: number }

export type Completion = { replaced: number[] } | { duplicateOf: number };

/**
 * The final step, one transaction: (with force) the earlier complete load of the same bytes becomes
 * failed and its rows go; this load becomes complete with its counts. The unique index on complete
 * loads is the last word: if the same bytes completed meanwhile, nothing changes and we say so.
 */
export async function completeLoad(c: pg.ClientBase, loadId: number, sha256: string, counts: Counts, force: boolean): Promise<Completion> {
  try {
    return await transaction(c, async () => {
      let replaced: number[] = [];
      if (force) {
        const { rows } = await c.query<{ load_id: number }>(
          `update meta.loads set status = 'failed', error = $2 where sha256 = $1 and status = 'complete' and load_id <> $3 returning load_id`,
          [sha256, `replaced by load ${loadId}`, loadId],
        );
        replaced = rows.map((r) => r.load_id);
        if (replaced.length) await deleteRows(c, replaced);
      }
      const res = await c.query(
        `update meta.loads
            set status = 'complete', finished_at = now(), sha256 = $2, byte_size = $3,
                rows_read = $4, rows_staged = $5, rows_rejected = $6, error = null
          where load_id = $1 and status = 'running'`,
        [loadId, sha256, counts.byteSize, counts.rowsRead, counts.rowsStaged, counts.rowsRejected],
      );
      if (res.rowCount !== 1) throw new Error(`load ${loadId} is no longer running`);
      await c.query(`select pg_notify('loads_completed', $1::text)`, [loadId]);
      return { replaced };
    });
  } catch (err) {
    if ((err as { code?: string }).code !== '23505') throw err;
    const other = await findComplete(c, sha256);
    if (other === undefined) throw err;
    return { duplicateOf: other };
  }
}

async function transaction<T>(c: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await c.query('begin');
  try {
    const out = await fn();
    await c.query('commit');
    return out;
  } catch (err) {
    await c.query('rollback').catch(() => undefined);
    throw err;
  }
}
