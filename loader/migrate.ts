import { readdir } from 'node:fs/promises';

import type { ClientConfig, Pool } from 'pg';

import { UserError } from './errors.js';
import { migrationsDir } from './paths.js';

export type Direction = 'up' | 'down';

/**
 * Apply (or roll back) the SQL migrations in migrations/. node-pg-migrate holds an
 * advisory lock while it works; `wait` makes a second process queue behind the first.
 */
export async function migrate(config: ClientConfig, direction: Direction, count?: number, log: (msg: string) => void = () => undefined): Promise<string[]> {
  try {
    const { runner } = await import('node-pg-migrate'); // loaded only when migrating: commands start faster
    const done = await runner({
      databaseUrl: config,
      dir: migrationsDir,
      migrationsTable: 'pgmigrations',
      direction,
      count: count ?? (direction === 'up' ? Infinity : 1),
      advisoryLockMode: 'wait',
      checkOrder: true,
      singleTransaction: true,
      log,
      logger: { debug: () => undefined, info: log, warn: log, error: log },
    });
    return done.map((m) => m.name);
  } catch (err) {
    throw new UserError(`migration failed: ${(err as Error).message}`, 1);
  }
}

/**
 * The migration files not yet applied, read without loading node-pg-migrate: a command that finds the
 * schema current starts at once. On any doubt (no migrations table yet, no right to read it) every file
 * counts as pending, and migrate() — under its lock — decides.
 */
export async function pendingMigrations(pool: Pool): Promise<string[]> {
  const files = (await readdir(migrationsDir)).filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, -4));
  try {
    const { rows } = await pool.query<{ name: string }>('select name from pgmigrations');
    const applied = new Set(rows.map((r) => r.name));
    return files.filter((f) => !applied.has(f));
  } catch {
    return files;
  }
}
