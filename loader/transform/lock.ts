/** One transform at a time per database: a session advisory lock on a dedicated connection. */
import type { ClientBase } from 'pg';

import { EXIT, UserError } from '../errors.js';

/** the advisory lock key: the bytes of 'transfor' as a bigint */
export const TRANSFORM_LOCK_KEY = '8390876182755045234';

export async function acquireTransformLock(c: ClientBase, wait: boolean, log: (line: string) => void): Promise<void> {
  const { rows } = await c.query<{ ok: boolean }>('select pg_try_advisory_lock($1::bigint) as ok', [TRANSFORM_LOCK_KEY]);
  if (rows[0]!.ok) return;
  if (!wait) throw new UserError('busy: another transform is running on this database (without --no-wait this one would wait for it)', EXIT.busy);
  log('another transform is running on this database; waiting for it to finish');
  await c.query('select pg_advisory_lock($1::bigint)', [TRANSFORM_LOCK_KEY]);
}

export async function releaseTransformLock(c: ClientBase): Promise<void> {
  await c.query('select pg_advisory_unlock($1::bigint)', [TRANSFORM_LOCK_KEY]);
}
