/**
 * npm run migrate [-- down [N]] — apply pending migrations (or roll back N, default 1).
 *
 * After `up`, on a database no transform has completed on and no load has completed on yet, the derived
 * objects (the features views, meta.load_summary) are created at once by the transform runner with no
 * loads, so that a fresh deployment serves empty views instead of "relation does not exist". Like every
 * transform, that run acts as the owner role `transformer` when this login may (loader/transform/owner.ts).
 */
import { openDatabase, type Database } from '../db.js';
import { EXIT, UserError } from '../errors.js';
import { migrate } from '../migrate.js';
import { runTransform } from '../transform/index.js';
import { mayActAsOwner, OWNER_ROLE } from '../transform/owner.js';
import { runMain } from './main.js';

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
  // the runner acts as the owner role (transformer) when this login may (loader/transform/owner.ts)
  const c = await db.pool.connect();
  const role = (await mayActAsOwner(c).finally(() => c.release())) ? OWNER_ROLE : undefined;
  try {
    const r = await runTransform(db, { wait: false });
    const as = role ? ` as ${role}` : '';
    // (a load that completed in the meantime was transformed by this run: then the objects hold its rows)
    return r.loads
      ? `derived objects: created${as} by transform ${r.runId}, with the ${r.loads} load${r.loads === 1 ? '' : 's'} completed meanwhile`
      : `derived objects: created${as} (empty until the first load is transformed; transform ${r.runId})`;
  } catch (err) {
    // another transform holds the lock: it creates them
    if ((err as { exitCode?: unknown }).exitCode === EXIT.busy) return 'derived objects: another transform is running; it creates them';
    throw err;
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
