/** Apply migrations only when some are pending: a load that finds the schema current starts at once. */
import { readdir } from 'node:fs/promises';

import type { Database } from '../db.js';
import { migrate } from '../migrate.js';
import { migrationsDir } from '../paths.js';

export async function pendingMigrations(db: Database): Promise<string[]> {
  const files = (await readdir(migrationsDir)).filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, -4));
  let applied: Set<string>;
  try {
    const { rows } = await db.pool.query<{ name: string }>('select name from pgmigrations');
    applied = new Set(rows.map((r) => r.name));
  } catch {
    return files; // no migrations table yet
  }
  return files.filter((f) => !applied.has(f));
}

export async function ensureSchema(db: Database): Promise<void> {
  if ((await pendingMigrations(db)).length) await migrate(db.config, 'up');
}
