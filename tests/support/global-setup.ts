/**
 * One PostgreSQL for the whole run: DATABASE_URL when set, else the embedded server
 * (started here and stopped at the end, unless it was already running). Test files get
 * their own fresh database on it through tests/support/db.ts.
 */
import type { TestProject } from 'vitest/node';

import { resolveDbTarget } from '../../loader/config.js';
import { embeddedOptions } from '../../loader/db.js';
import { startEmbedded, stopEmbedded } from '../../loader/embedded.js';
import { projectRoot } from '../../loader/paths.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const target = resolveDbTarget(process.env, projectRoot);
  if (target.kind === 'url') {
    project.provide('adminUrl', target.connectionString);
    return async () => undefined;
  }
  if (target.kind === 'libpq') throw new Error('tests need DATABASE_URL (or nothing, for the embedded server), not PGHOST');
  const o = embeddedOptions(target);
  const server = await startEmbedded(o);
  project.provide('adminUrl', server.url);
  return async () => {
    if (server.startedHere) await stopEmbedded(o);
  };
}
