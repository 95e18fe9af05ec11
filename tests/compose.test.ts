/**
 * The docker compose stack and the Dockerfile, checked without a Docker engine: every command, script,
 * file, port and variable they name exists and agrees with package.json, .env.example and the code.
 * The file is validated against the Compose Specification's JSON schema on every machine; where a compose
 * client works (`docker compose` v2, or Debian's `docker-compose` 1.29), its `config` validates it as well.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';

import { watchVariables } from '../loader/watch/args.js';
import { projectRoot } from '../loader/paths.js';
import {
  execForm,
  interpolate,
  interpolateAll,
  loadCompose,
  loadEnvExample,
  parseDockerfile,
  readProjectFile,
  references,
  runCommand,
  strings,
  type Service,
} from './support/compose.js';

const compose = loadCompose();
const envExample = loadEnvExample();
const pkg = JSON.parse(readProjectFile('package.json')) as { scripts: Record<string, string>; engines: { node: string }; devDependencies: Record<string, string> };
const dockerfile = parseDockerfile(readProjectFile('Dockerfile'));
const dockerignore = readProjectFile('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

const appServices = ['migrate', 'loader', 'transform'] as const;
const longRunning = ['loader', 'transform'] as const;
const oneShot = ['migrate', 'roles'] as const;
const service = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
/** A test .env: .env.example with every empty value (the passwords) filled in. */
const testEnv = Object.fromEntries(Object.entries(envExample).map(([k, v]) => [k, v === '' ? `test-${k.toLowerCase()}` : v]));
const resolved = interpolateAll(compose, testEnv);
/** dist/x/y.js → x/y.ts */
const sourceOf = (distFile: string) => distFile.replace(/^dist\//, '').replace(/\.js$/, '.ts');
const libpq = ['PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGPASSWORD'];
const known = new Set<string>([...libpq, ...watchVariables]);

describe('docker-compose.yml', () => {
  it('is read with compose interpolation rules (the checker itself)', () => {
    expect(interpolate('$${X} ${A:-d} ${B:?need B} ${C-e} $D', { B: 'b', C: '', D: 'dd' })).toBe('${X} d b  dd');
    expect(() => interpolate('${B:?need B}', { B: '' })).toThrow('B: need B');
    expect(references('$${X} ${A:-d} ${B:?e}').map((r) => `${r.name}${r.required ? '!' : ''}`)).toEqual(['A', 'B!']);
  });

  it('has the services of the pipeline, each with a restart policy that fits it', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['loader', 'migrate', 'postgres', 'roles', 'transform']);
    for (const name of oneShot) expect(service(name).restart).toBe('no');
    for (const name of [...longRunning, 'postgres']) expect(service(name).restart).toBe('unless-stopped');
    for (const name of longRunning) {
      expect(service(name).init, `${name}: an init process forwards SIGTERM`).toBe(true);
      // docker stops with SIGKILL after stop_grace_period: it must leave the service its own grace time
      const grace = Number(envExample.WATCH_GRACE_SECONDS);
      expect(Number.parseInt(service(name).stop_grace_period ?? '10', 10)).toBeGreaterThan(grace);
    }
  });

  it('starts each service after what it needs is healthy or completed successfully', () => {
    const needs = (name: string) => Object.fromEntries(Object.entries(service(name).depends_on ?? {}).map(([k, v]) => [k, v.condition]));
    expect(needs('postgres')).toEqual({});
    expect(needs('migrate')).toEqual({ postgres: 'service_healthy' });
    expect(needs('roles')).toEqual({ migrate: 'service_completed_successfully' });
    for (const name of longRunning) expect(needs(name)).toEqual({ roles: 'service_completed_successfully' });
  });

  it('runs postgres from the official postgres:17 image, data on a named volume, with a pg_isready healthcheck over TCP', () => {
    const pg = service('postgres');
    expect(pg.image).toMatch(/^postgres:17(\.|$|-)/);
    expect(service('roles').image).toBe(pg.image); // psql of the same major version
    const volume = pg.volumes?.find((v): v is string => typeof v === 'string' && v.endsWith(':/var/lib/postgresql/data'));
    expect(volume).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(volume!.split(':')[0]);
    const test = pg.healthcheck?.test ?? [];
    expect(test[0]).toBe('CMD-SHELL');
    expect(test[1]).toMatch(/^pg_isready -h 127\.0\.0\.1 /);
  });

  it('names only variables that .env.example documents, and .env.example documents nothing unused', () => {
    const named = new Set(strings(compose).flatMap(references).map((r) => r.name));
    // COMPOSE_PROJECT_NAME is the client's own: it names the project, the file never interpolates it
    expect([...named].sort()).toEqual(Object.keys(envExample).filter((k) => k !== 'COMPOSE_PROJECT_NAME').sort());
  });

  it('takes every password from .env, required, and .env.example commits none', () => {
    const required = new Set(strings(compose).flatMap(references).filter((r) => r.required).map((r) => r.name));
    expect([...required].sort()).toEqual(Object.keys(envExample).filter((k) => k.endsWith('PASSWORD')).sort());
    for (const name of required) expect(envExample[name], name).toBe('');
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (/PASSWORD|SECRET|TOKEN/.test(key)) expect(value, `${name}.${key}`).toMatch(/^\$\{[A-Z_]+:\?[^}]+\}$/);
      }
    }
    expect(() => interpolateAll(compose, { ...testEnv, LOADER_DB_PASSWORD: '' })).toThrow(/LOADER_DB_PASSWORD/);
  });

  it('gives each service its own login role and only variables the code reads', () => {
    const env = (name: string) => resolved.services[name]!.environment ?? {};
    expect(env('migrate').PGUSER).toBe(testEnv.POSTGRES_USER);
    expect(env('loader').PGUSER).toBe(testEnv.LOADER_DB_USER);
    expect(env('transform').PGUSER).toBe(testEnv.TRANSFORM_DB_USER);
    expect(new Set(appServices.map((s) => env(s).PGUSER)).size).toBe(3);
    for (const name of appServices) {
      expect(Object.keys(env(name)).filter((k) => !known.has(k)), name).toEqual([]);
      expect(env(name).PGHOST).toBe('postgres');
      expect(env(name).PGDATABASE).toBe(env('postgres').POSTGRES_DB);
      expect(env(name).DATABASE_URL).toBeUndefined();
    }
  });

  it('connects to the port postgres listens on, and publishes it on 127.0.0.1 only', () => {
    const ports = resolved.services.postgres!.ports ?? [];
    expect(ports).toEqual([`127.0.0.1:${testEnv.POSTGRES_PORT}:5432`]);
    for (const name of [...appServices, 'roles']) expect(resolved.services[name]!.environment?.PGPORT, name).toBe('5432');
  });

  it('runs commands that exist: built from loader/ sources, the same files as the npm scripts', () => {
    for (const name of appServices) {
      const s = service(name);
      expect(s.build, name).toBe('.');
      expect(s.image).toBe(service('migrate').image);
      const [node, file] = s.command ?? [];
      expect(node).toBe('node');
      expect(file).toMatch(/^dist\/loader\/cli\/\w+\.js$/);
      expect(existsSync(join(projectRoot, sourceOf(file!))), `${name}: ${sourceOf(file!)}`).toBe(true);
      const script = { migrate: 'migrate', loader: 'load', transform: 'transform' }[name];
      expect(pkg.scripts[script], `npm run ${script}`).toBe(`node ${file}`);
    }
    expect(service('loader').command).toEqual(['node', 'dist/loader/cli/load.js', '--watch', '/inbox', '--json']);
    expect(service('transform').command).toEqual(['node', 'dist/loader/cli/transform.js', '--watch', '--json']);
  });

  it('mounts what exists: the roles script (executable, given every variable it reads) and the bundled data as the default inbox', () => {
    const roles = resolved.services.roles!;
    const mount = roles.volumes?.find((v): v is string => typeof v === 'string' && v.endsWith(':/docker:ro'));
    expect(mount).toBe('./docker:/docker:ro');
    const [shell, script] = roles.command ?? [];
    expect(shell).toBe('sh');
    const local = join(projectRoot, 'docker', script!.replace(/^\/docker\//, ''));
    accessSync(local, constants.X_OK);
    const text = readProjectFile('docker/service-roles.sh');
    const read = new Set([...text.matchAll(/\\getenv \w+ (\w+)/g)].map((m) => m[1]!));
    expect(read.size).toBe(6);
    for (const v of read) expect(roles.environment?.[v], v).toBeTruthy();

    const inbox = resolved.services.loader!.volumes?.find((v) => typeof v === 'object' && v.target === '/inbox');
    expect(inbox).toMatchObject({ type: 'bind', read_only: true, source: testEnv.INBOX_DIR });
    const dir = join(projectRoot, typeof inbox === 'object' ? inbox.source : '');
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.csv.gz')).length).toBe(305);
  });

  it('has no fixed container name, host name or published port on loader and transform, so they scale out', () => {
    for (const name of longRunning) {
      const s = compose.services[name] as Record<string, unknown>;
      for (const key of ['container_name', 'hostname', 'ports', 'expose', 'network_mode']) expect(s[key], `${name}.${key}`).toBeUndefined();
    }
  });

  it('gives loader and transform a healthcheck: the health command of the image, on a heartbeat file of the container', () => {
    for (const name of longRunning) {
      const s = resolved.services[name]!;
      const [kind, node, file, ...rest] = s.healthcheck?.test ?? [];
      expect([kind, node, rest], name).toEqual(['CMD', 'node', []]);
      expect(file).toBe('dist/loader/cli/health.js');
      expect(existsSync(join(projectRoot, sourceOf(file!)))).toBe(true);
      expect(s.environment?.HEARTBEAT_FILE, name).toMatch(/^\/tmp\/[\w.-]+$/); // the container's own /tmp: one per replica
      expect(Number(s.environment?.WATCH_HEARTBEAT_SECONDS)).toBeGreaterThan(0);
      expect(Number(s.environment?.HEALTH_DB_GRACE_SECONDS)).toBeGreaterThan(0);
    }
  });

  it('is valid by the Compose Specification\'s JSON schema (compose-spec/compose-spec, as shipped by the dclint package)', () => {
    const schema = composeSchema();
    expect(schema.title).toBe('Compose Specification');
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    // the schema names its draft-07 meta-schema by its https address; Ajv knows draft-07 by the http one
    const draft7 = createRequire(import.meta.url)('ajv/dist/refs/json-schema-draft-07.json') as Record<string, unknown>;
    ajv.addMetaSchema({ ...draft7, $id: schema.$schema }, String(schema.$schema));
    const validate = ajv.compile(schema);
    const errors = (value: unknown) => (validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
    expect(errors(resolved)).toEqual([]);
    // the check itself: a misspelt key and a healthcheck of the wrong type are refused
    const loader = resolved.services.loader!;
    expect(errors({ ...resolved, services: { ...resolved.services, loader: { ...loader, helthcheck: loader.healthcheck } } }).length).toBeGreaterThan(0);
    expect(errors({ ...resolved, services: { ...resolved.services, loader: { ...loader, healthcheck: { test: 42 } } } }).length).toBeGreaterThan(0);
  });

  it('validates with each installed client\'s `config` (Compose v2 and Debian\'s docker-compose 1.29)', (ctx) => {
    // the static checks above always run; this adds each client's own validation where one works here
    const env = { ...process.env, ...testEnv };
    const found = composeClients();
    if (!found.clients.length) {
      const why = `docker compose config not run: ${found.notes.join('; ')}`;
      console.warn(why);
      ctx.skip(why);
    }
    for (const [cmd, ...pre] of found.clients) {
      const run = spawnSync(cmd!, [...pre, '--project-directory', projectRoot, '-f', join(projectRoot, 'docker-compose.yml'), 'config', '--quiet'], { env, encoding: 'utf8' });
      expect(run.stderr.split('\n').filter((l) => l.trim() && !/WARNING|level=warn/i.test(l)), `${cmd} ${pre.join(' ')}`).toEqual([]);
      expect(run.status, `${cmd} ${pre.join(' ')}`).toBe(0);
    }
  });

  it('needs nothing of Compose v2 alone: no top-level name (the project name is COMPOSE_PROJECT_NAME), no BuildKit frontend to pull', () => {
    expect(Object.keys(compose)).not.toContain('name');
    expect(envExample.COMPOSE_PROJECT_NAME).toBe('retail-elt');
    expect(readProjectFile('Dockerfile').split('\n').filter((l) => /^#\s*syntax\s*=/i.test(l))).toEqual([]);
  });

  it('tells a Compose v1 client from v2 by its version (the client probe itself)', () => {
    expect(composeMajor('1.29.2')).toBe(1);
    expect(composeMajor('v2.24.6')).toBe(2);
    expect(composeMajor('2.39.1-desktop.1')).toBe(2);
    expect(composeMajor('docker-compose version 1.29.2, build unknown')).toBe(1);
    expect(composeMajor('')).toBeUndefined();
  });
});

/** The major version in `docker compose version --short` (or the long form of v1). */
function composeMajor(text: string): number | undefined {
  const m = /(?:^|version )v?(\d+)\.\d+/.exec(text.trim());
  return m ? Number(m[1]) : undefined;
}

/** The compose clients that work here (v2 and v1 alike), and why each other one was passed over. */
function composeClients(): { clients: string[][]; notes: string[] } {
  const notes: string[] = [];
  const clients: string[][] = [];
  for (const client of [['docker', 'compose'], ['docker-compose']]) {
    const [cmd, ...pre] = client;
    const probe = spawnSync(cmd!, [...pre, 'version', '--short'], { encoding: 'utf8' });
    const name = client.join(' ');
    if (probe.error || probe.status !== 0 || composeMajor(probe.stdout) === undefined) {
      notes.push(`${name}: not installed or not working`);
      continue;
    }
    clients.push(client);
  }
  return { clients, notes };
}

/** compose-spec/compose-spec's schema/compose-spec.json, as the dclint package ships it (schemas/compose.schema.json). */
function composeSchema(): { title?: string; $schema?: string } & Record<string, unknown> {
  const dir = dirname(createRequire(import.meta.url).resolve('dclint/package.json'));
  return JSON.parse(readFileSync(join(dir, 'schemas', 'compose.schema.json'), 'utf8')) as { title?: string };
}

describe('Dockerfile', () => {
  const { instructions, stages } = dockerfile;
  const last = stages.length - 1;
  const inStage = (stage: number, op: string) => instructions.filter((i) => i.stage === stage && i.op === op);

  it('builds in one stage and runs from a second, on the Node major version package.json asks for', () => {
    expect(stages.length).toBe(2);
    const major = /(\d+)/.exec(pkg.engines.node)?.[1];
    for (const s of stages) expect(s.image).toMatch(new RegExp(`^node:${major}(\\.|-|$)`));
    const build = stages.findIndex((s) => s.name === 'build');
    expect(build).toBe(0);
    expect(inStage(build, 'RUN').map((i) => runCommand(i.args))).toEqual(expect.arrayContaining([expect.stringMatching(/^npm ci\b/), 'npm run build']));
    expect(pkg.scripts.build).toBeDefined();
    const fromBuild = inStage(last, 'COPY').filter((i) => i.args.startsWith('--from='));
    expect(fromBuild.map((i) => i.args)).toEqual(['--from=build /app/dist ./dist']);
  });

  it('gives the build stage everything tsc compiles: the folders tsconfig.json includes, importing nothing outside them', () => {
    const copied = inStage(0, 'COPY').flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    const tsconfig = JSON.parse(readProjectFile('tsconfig.json')) as { include: string[] };
    const roots = tsconfig.include.map((pattern) => pattern.split('/')[0]!);
    for (const root of [...roots, 'tsconfig.json', 'package.json', 'package-lock.json']) expect(copied, root).toContain(root);
    const sources = roots.flatMap((root) => readdirSync(join(projectRoot, root), { recursive: true, encoding: 'utf8' }).map((f) => join(root, f))).filter((f) => f.endsWith('.ts'));
    expect(sources.length).toBeGreaterThan(10);
    for (const file of sources) {
      for (const m of readProjectFile(file).matchAll(/(?:from\s+|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = join(dirname(file), m[1]!).replace(/\.js$/, '.ts');
        expect(roots.some((root) => target.startsWith(root + '/')), `${file} imports ${m[1]}`).toBe(true);
        expect(existsSync(join(projectRoot, target)), `${file} imports ${m[1]}`).toBe(true);
      }
    }
  });

  it('installs no dev tooling at run time, runs as a non-root user and bakes in no secret', () => {
    const runs = inStage(last, 'RUN').map((i) => runCommand(i.args));
    expect(runs.filter((r) => /\bnpm (ci|install)\b/.test(r))).toEqual([expect.stringMatching(/^npm ci --omit=dev\b.*--ignore-scripts/)]);
    const users = inStage(last, 'USER').map((i) => i.args);
    expect(users.length).toBe(1);
    expect(users[0]).not.toMatch(/^(root|0)(:|$)/);
    const runsAfterUser = instructions.slice(instructions.findIndex((i) => i.op === 'USER')).filter((i) => i.op === 'RUN');
    expect(runsAfterUser).toEqual([]);
    for (const i of instructions.filter((x) => x.op === 'ENV' || x.op === 'ARG')) {
      expect(i.args).not.toMatch(/PASSWORD|SECRET|TOKEN|DATABASE_URL|PGPASSWORD/i);
    }
  });

  it('copies only files that exist and that .dockerignore lets through; .dockerignore keeps secrets and local state out', () => {
    for (const i of instructions.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from='))) {
      const sources = i.args.split(/\s+/).slice(0, -1);
      for (const src of sources) {
        expect(existsSync(join(projectRoot, src)), src).toBe(true);
        expect(dockerignore, src).not.toContain(src);
      }
    }
    expect(dockerignore).toEqual(expect.arrayContaining(['.env', '.data', 'node_modules', 'dist', '.git']));
  });

  it('has a default command that exists, and the services run what the image holds', () => {
    const cmd = execForm(inStage(last, 'CMD')[0]!.args);
    expect(cmd[0]).toBe('node');
    expect(existsSync(join(projectRoot, sourceOf(cmd[1]!)))).toBe(true);
    const copied = inStage(last, 'COPY').map((i) => i.args.split(/\s+/).at(-1)!.replace(/^\.\//, ''));
    for (const needed of ['dist', 'migrations', 'sql']) expect(copied).toContain(needed);
    expect(inStage(last, 'WORKDIR').map((i) => i.args)).toEqual(['/app']);
  });
});
