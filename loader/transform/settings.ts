/**
 * How a run's batch reaches the steps (I/O): as transaction-scoped settings (transform.run_id,
 * transform.is_full, transform.batch_load_ids, transform.removed_load_ids), made with `SET LOCAL`, that
 * every step reads once per statement (`(select current_setting(…))`, an InitPlan parameter).
 *
 * One form for both engines. On plain PostgreSQL a `SET LOCAL` is what `set_config(…, true)` was. On a
 * Citus coordinator, `citus.propagate_set_commands = 'local'` first makes Citus send each later `SET
 * LOCAL` of the transaction to the workers, so a step pushed down to the shards reads the same values
 * there (a set_config() call is never propagated: the workers then do not know the setting).
 */
import pg from 'pg';

export type RunSettings = Record<string, string>;

/** True when the database is a Citus coordinator (the citus extension is installed in it). */
export async function isCitus(c: pg.ClientBase): Promise<boolean> {
  const { rows } = await c.query<{ citus: boolean }>(`select exists (select from pg_extension where extname = 'citus') as citus`);
  return rows[0]?.citus === true;
}

/** `SET LOCAL` each setting, for this transaction (and, on Citus, its connections to the workers). */
export async function setRunSettings(c: pg.ClientBase, settings: RunSettings, citus: boolean): Promise<void> {
  if (citus) {
    await c.query(`set local citus.propagate_set_commands = 'local'`);
    await c.query(`set local citus.create_object_propagation = 'deferred'`);
  }
  for (const [name, value] of Object.entries(settings)) {
    if (!/^[a-z_]+\.[a-z_]+$/.test(name)) throw new Error(`not a setting name: ${name}`);
    await c.query(`set local ${name} = ${pg.escapeLiteral(value)}`);
  }
}

/** A list of load ids as a PostgreSQL array literal ('{1,2,3}'). */
export function idArray(ids: readonly number[]): string {
  return `{${ids.join(',')}}`;
}
