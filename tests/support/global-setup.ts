/**
 * One PostgreSQL for the whole run: DATABASE_URL when set, else the embedded server
 * (started here and stopped at the end, unless it was already running). Test files get
 * their own fresh database on it through tests/support/db.ts, copied from templates of this run:
 * `<prefix>_migrated` (made here: a database with every migration applied) and `<prefix>_bundled`
 * (the bundled dataset loaded and transformed, made by the first file that asks for it). Both are
 * dropped at the end; the prefix is new for every run, so a changed migration or sql/ file never
 * meets a template of an older run.
 */
import { randomBytes } from 'node:crypto';

import type { TestProject } from 'vitest/node';

import { resolveDbTarget } from '../../loader/config.js';
import { embeddedOptions } from '../../loader/db.js';
import { startEmbedded, stopEmbedded } from '../../loader/embedded.js';
import { migrate } from '../../loader/migrate.js';
import { projectRoot } from '../../loader/paths.js';
import { sql } from './citus-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    /** names of this run's template databases start with it (tests/support/db.ts; on Citus, citus-setup.ts) */
    templatePrefix: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const target = resolveDbTarget(process.env, projectRoot);
  if (target.kind === 'libpq') throw new Error('tests need DATABASE_URL (or nothing, for the embedded server), not PGHOST');
  let adminUrl: string;
  let stop: () => Promise<void> = async () => undefined;
  if (target.kind === 'url') adminUrl = target.connectionString;
  else {
    const o = embeddedOptions(target);
    const server = await startEmbedded(o);
    adminUrl = server.url;
    if (server.startedHere) stop = async () => void (await stopEmbedded(o));
  }
  const prefix = `tpl_${randomBytes(4).toString('hex')}`;
  const migrated = `${prefix}_migrated`;
  await sql(adminUrl, `create database ${migrated}`);
  const u = new URL(adminUrl);
  u.pathname = `/${migrated}`;
  await migrate({ connectionString: u.toString() }, 'up');
  // nobody connects to a template (CREATE DATABASE … TEMPLATE refuses a source others are connected to)
  await sql(adminUrl, `alter database ${migrated} allow_connections false`);
  project.provide('adminUrl', adminUrl);
  project.provide('templatePrefix', prefix);
  return async () => {
    await sql(adminUrl, ...['migrated', 'bundled', 'bundled_build'].map((t) => `drop database if exists ${prefix}_${t} with (force)`)).catch(() => undefined);
    await stop();
  };
}
