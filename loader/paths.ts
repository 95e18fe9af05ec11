import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root: the nearest folder above this module that holds package.json (works from loader/ and dist/loader/). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'migrations'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(dirname(fileURLToPath(import.meta.url)), '..');
    dir = parent;
  }
}

export const projectRoot = findRoot();
export const migrationsDir = join(projectRoot, 'migrations');
export const sqlDir = join(projectRoot, 'sql');
export const bundledDataDir = join(projectRoot, 'data', 'online-retail', 'by-day');
