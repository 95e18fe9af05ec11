/**
 * Whether the Citus tests can run here (no I/O beyond two file checks, and no imports of the project, so
 * that vitest.config.ts can read it): Debian's PostgreSQL 15 server binaries (CITUS_PG_BIN, default
 * /usr/lib/postgresql/15/bin) with Citus installed beside them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const citusBin = process.env.CITUS_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Why the Citus tests cannot run here, or undefined when they can. */
export function citusMissing(): string | undefined {
  if (!existsSync(join(citusBin, 'pg_ctl'))) return `no PostgreSQL 15 server binaries in ${citusBin}`;
  const lib = join(citusBin, '..', 'lib', 'citus.so');
  if (!existsSync(lib)) return `Citus is not installed into ${join(citusBin, '..')} (no ${lib})`;
  return undefined;
}
