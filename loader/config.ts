import { resolve } from 'node:path';

import { UserError } from './errors.js';

/** Where the database comes from: decided in this one place, from the environment only. */
export type DbTarget =
  | { kind: 'url'; connectionString: string }
  | { kind: 'libpq' }
  | { kind: 'embedded'; port: number; dataDir: string; database: string };

export const DEFAULT_EMBEDDED_PORT = 54329;
export const EMBEDDED_DATABASE = 'retail';

type Env = Record<string, string | undefined>;

/**
 * DATABASE_URL wins; else the libpq PG* variables when PGHOST is set (pg reads them
 * itself); else the embedded PostgreSQL 17 in EMBEDDED_PG_DATA (default `<projectDir>/.data/postgres`).
 */
export function resolveDbTarget(env: Env, projectDir: string): DbTarget {
  const url = env.DATABASE_URL?.trim();
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new UserError('DATABASE_URL must start with postgres:// or postgresql://');
    }
    return { kind: 'url', connectionString: url };
  }
  if (env.PGHOST?.trim()) return { kind: 'libpq' };
  return {
    kind: 'embedded',
    port: parsePort(env.EMBEDDED_PG_PORT),
    dataDir: env.EMBEDDED_PG_DATA?.trim() ? resolve(projectDir, env.EMBEDDED_PG_DATA.trim()) : resolve(projectDir, '.data', 'postgres'),
    database: EMBEDDED_DATABASE,
  };
}

export function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_EMBEDDED_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UserError(`EMBEDDED_PG_PORT must be a port number from 1 to 65535, got "${raw}"`);
  }
  return port;
}

/** A human description of the target that never contains a password. */
export function describeTarget(target: DbTarget): string {
  switch (target.kind) {
    case 'url':
      return `DATABASE_URL (${redactUrl(target.connectionString)})`;
    case 'libpq':
      return 'PG* environment variables';
    case 'embedded':
      return `embedded PostgreSQL on port ${target.port} (${target.dataDir})`;
  }
}

export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@]*@/, '$1:***@');
}
