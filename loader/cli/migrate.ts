/**
 * npm run migrate [-- down [N]] — apply pending migrations (or roll back N, default 1).
 *
 * After `up`, on a database no transform has completed on and no load has completed on yet, the derived
 * objects (the features views, meta.load_summary) are created at once by the transform runner with no
 * loads, so that a fresh deployment serves empty views instead of "relation does not exist". That run acts as the `transformer` role when it
 * exists and this login may use it: the objects then belong to `transformer`, and the transform
 * service (which acts as `transformer`) can refresh them, and drop and recreate them on a changed
 * definition, as if it had made them itself.
 */
import pg from 'pg';

import { openDatabase, type Database } from '../db.js';
import { EXIT, UserError } from '../errors.js';
import { migrate } from '../migrate.js';
import { runTransform } from '../transform/index.js';
import { runMain } from './main.js';

/** The role the derived objects are made as: `transformer` when this login may act as it, else the login itself. */
async function derivedOwner(db: Database): Promise<string | undefined> {
  // (a case, not `and`: pg_has_role fails on a role that does not exist; 16+ grants SET ROLE separately from membership)
  const { rows } = await db.pool.query<{ may: boolean }>(
    `select case
              when to_regrole('transformer') is null then false
              when current_setting('server_version_num')::int >= 160000 then pg_has_role(current_user, 'transformer', 'SET')
              else pg_has_role(current_user, 'transformer', 'MEMBER')
            end as may`,
  );
  return rows[0]?.may ? 'transformer' : undefined;
}

/** Create the derived objects when no transform has completed yet; returns what to say. */
async function createDerivedObjects(db: Database): Promise<string | undefined> {
  const { rows } = await db.pool.query<{ done: boolean; waiting: number }>(
    `select exists (select from meta.transform_runs where status = 'complete') as done,
            (select count(*) from meta.loads where status = 'complete')::int as waiting`,
  );
  if (rows[0]?.done) return undefined;
  // migrate stays a schema step: it never transforms data (that run could take minutes)
  const waiting = rows[0]?.waiting ?? 0;
  if (waiting) return `derived objects: not created here: ${waiting} complete load${waiting === 1 ? ' waits' : 's wait'} for the first transform, which creates them (npm run transform)`;
  const role = await derivedOwner(db);
  // every connection of the runner starts as that role (a startup option: refused loudly, never silently ignored)
  const options = [db.config.options ?? process.env.PGOPTIONS, role ? `-c role=${role}` : undefined].filter(Boolean).join(' ') || undefined;
  const pool = new pg.Pool({ ...db.config, max: 1, options });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => void client.on('error', () => undefined));
  try {
    const r = await runTransform({ pool }, { wait: false });
    const as = role ? ` as ${role}` : '';
    // (a load that completed in the meantime was transformed by this run: then the objects hold its rows)
    return r.loads
      ? `derived objects: created${as} by transform ${r.runId}, with the ${r.loads} load${r.loads === 1 ? '' : 's'} completed meanwhile`
      : `derived objects: created${as} (empty until the first load is transformed; transform ${r.runId})`;
  } catch (err) {
    // another transform holds the lock: it creates them
    if ((err as { exitCode?: unknown }).exitCode === EXIT.busy) return 'derived objects: another transform is running; it creates them';
    throw err;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

runMain('migrate', async () => {
  const [direction = 'up', countArg] = process.argv.slice(2);
  if (direction !== 'up' && direction !== 'down') throw new UserError('usage: migrate [up|down [N]]');
  const count = countArg === undefined ? undefined : Number(countArg);
  if (count !== undefined && (!Number.isInteger(count) || count < 1)) throw new UserError(`migrate: N must be a positive whole number, got "${countArg}"`);
  const db = await openDatabase({ migrate: false });
  try {
    const done = await migrate(db.config, direction, count, () => undefined);
    console.log(done.length ? `${direction === 'up' ? 'applied' : 'rolled back'}: ${done.join(', ')}` : 'migrations: up to date');
    if (direction === 'up' && count === undefined) {
      const said = await createDerivedObjects(db);
      if (said) console.log(said);
    }
  } finally {
    await db.close();
  }
});
