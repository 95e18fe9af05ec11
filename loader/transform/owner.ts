/**
 * The one owner of what the pipeline maintains (I/O): `transformer` (migrations/1700000009000_one-owner).
 * A run acts as it (SET LOCAL ROLE, for its transaction) whenever its login may: the superuser, the
 * service login made by docker/service-roles.sh, or any member. What it creates or replaces then belongs to
 * `transformer`, and its tables' indexes are the run's to drop and build again (the bulk path). A login
 * that may not act as it runs as itself, and is told once why that is slower and how to fix it.
 */
import type { ClientBase } from 'pg';

export const OWNER_ROLE = 'transformer';

export interface Acting {
  /** the role the run's statements run as */
  role: string;
  /** said once when the run cannot act as the owner */
  note?: string;
}

/** True when the current login may act as `transformer` (16+ grants SET ROLE apart from membership). */
export async function mayActAsOwner(c: ClientBase): Promise<boolean> {
  const { rows } = await c.query<{ may: boolean }>(
    `select case
              when to_regrole($1) is null then false
              when current_setting('server_version_num')::int >= 160000 then pg_has_role(current_user, $1, 'SET')
              else pg_has_role(current_user, $1, 'MEMBER')
            end as may`,
    [OWNER_ROLE],
  );
  return rows[0]?.may === true;
}

/** Inside the run's transaction: act as the owner when this login may; else say why not (once per process). */
let told = false;
export async function actAsOwner(c: ClientBase): Promise<Acting> {
  const { rows } = await c.query<{ user: string }>('select current_user as user');
  const user = rows[0]!.user;
  if (user === OWNER_ROLE) return { role: user };
  if (await mayActAsOwner(c)) {
    await c.query(`set local role ${OWNER_ROLE}`);
    return { role: OWNER_ROLE };
  }
  if (told) return { role: user };
  told = true;
  return {
    role: user,
    note:
      `the transform runs as ${user}, which may not act as ${OWNER_ROLE}, the owner of core and the feature views: ` +
      `a full rebuild keeps core's indexes (slower) and a changed view cannot be replaced. Fix: grant ${OWNER_ROLE} to ${user}`,
  };
}
