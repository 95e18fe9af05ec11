/**
 * The healthchecks of the loader and transform containers, natively: each service runs its compose
 * command as its login, with the environment compose gives it (the heartbeat file moved from the
 * container's /tmp to a temp folder), reaching the database through a TCP relay this test can cut. The
 * compose healthcheck command is run as the container would run it: healthy while the service beats and
 * the database answers; unhealthy when the database has been away longer than the grace, when the
 * process is frozen (SIGSTOP) and after it stopped; healthy again when things come back.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { projectRoot } from '../loader/paths.js';
import { interpolateAll, loadCompose, loadEnvExample } from './support/compose.js';
import { freshDatabase } from './support/db.js';
import { startService, until, type ServiceProcess } from './support/service-process.js';
import { createServiceLogins, libpqEnv, type Login } from './support/services.js';

const db = await freshDatabase();
const logins = createServiceLogins(db);
const server = new URL(db.url);
const work = mkdtempSync(join(tmpdir(), 'health-'));
const inbox = join(work, 'inbox');
mkdirSync(inbox);
const services: ServiceProcess[] = [];
afterAll(async () => {
  for (const s of services) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  await relay.close();
  rmSync(work, { recursive: true, force: true });
});

/** A TCP relay to the test server that can be cut (every connection dropped, new ones refused) and restored. */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  async open(): Promise<void> {
    const s = createServer((client) => {
      const upstream = connect(Number(server.port), server.hostname);
      for (const sock of [client, upstream]) {
        this.sockets.add(sock);
        sock.on('close', () => this.sockets.delete(sock));
        sock.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => s.listen(this.port, '127.0.0.1', resolve));
    this.port = (s.address() as { port: number }).port;
    this.server = s;
  }
  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
const relay = new Relay();
await relay.open();

const compose = interpolateAll(loadCompose(), { ...loadEnvExample(), LOADER_DB_PASSWORD: 'x', TRANSFORM_DB_PASSWORD: 'x', ANALYST_DB_PASSWORD: 'x', POSTGRES_PASSWORD: 'x' });

/** What compose gives the service, natively: its login through the relay, fast beats, its own heartbeat file. */
function serviceEnv(name: 'loader' | 'transform', login: Login): NodeJS.ProcessEnv {
  const declared = compose.services[name]!.environment!;
  expect(declared.HEARTBEAT_FILE).toMatch(/^\/tmp\//); // the container's own /tmp: one file per replica
  return libpqEnv(db.url, login, {
    PGPORT: String(relay.port),
    HEARTBEAT_FILE: join(work, `${name}.heartbeat.json`),
    WATCH_HEARTBEAT_SECONDS: '0.2',
    HEALTH_DB_GRACE_SECONDS: '1',
    WATCH_POLL_SECONDS: '0.1',
  });
}

/** The service's compose healthcheck, run natively with the service's environment. */
function healthcheck(name: 'loader' | 'transform', env: NodeJS.ProcessEnv): { code: number | null; line: string } {
  const [kind, cmd, ...args] = compose.services[name]!.healthcheck!.test;
  expect([kind, cmd]).toEqual(['CMD', 'node']);
  const run = spawnSync(process.execPath, args, { cwd: projectRoot, env, encoding: 'utf8' });
  return { code: run.status, line: (run.stdout + run.stderr).trim() };
}

async function healthBecomes(name: 'loader' | 'transform', env: NodeJS.ProcessEnv, code: number, running: ServiceProcess[]): Promise<string> {
  let last = { code: null as number | null, line: '' };
  await until(() => (last = healthcheck(name, env)).code === code, running);
  return last.line;
}

describe.each([
  ['loader', () => [compose.services.loader!.command!.slice(1).map((a) => (a === '/inbox' ? inbox : a)), logins.loader]],
  ['transform', () => [compose.services.transform!.command!.slice(1), logins.transformer]],
] as const)('%s healthcheck', (name, setup) => {
  it('healthy while it beats and the database answers; unhealthy when the database is away past the grace, frozen, or stopped', async () => {
    const [args, login] = setup() as [string[], Login];
    const env = serviceEnv(name, login);
    const service = startService(args, { cwd: projectRoot, env });
    services.push(service);
    await service.waitFor((e) => e.event === 'watching');
    expect(await healthBecomes(name, env, 0, [service])).toMatch(new RegExp(`^healthy: ${name} \\(pid ${service.child.pid}\\)`));

    await relay.close(); // the database is away: connections dropped, new ones refused
    expect(await healthBecomes(name, env, 1, [service])).toMatch(/^the database has not answered for [\d.]+ s \(grace 1 s\): /);
    await relay.open(); // back on the same port
    expect(await healthBecomes(name, env, 0, [service])).toMatch(/^healthy: /);

    service.child.kill('SIGSTOP'); // the heartbeat stops (with a longer database grace: the beat, not the database, goes stale first)
    try {
      expect(await healthBecomes(name, { ...env, HEALTH_DB_GRACE_SECONDS: '60' }, 1, [])).toMatch(new RegExp(`^no heartbeat for [\\d.]+ s \\(pid ${service.child.pid}; allowed 1.6 s\\): the process is stuck or gone$`));
    } finally {
      service.child.kill('SIGCONT');
    }
    expect(await healthBecomes(name, env, 0, [service])).toMatch(/^healthy: /);

    expect(await service.stop()).toBe(0);
    expect(healthcheck(name, env)).toEqual({ code: 1, line: 'no heartbeat file: the service has not started watching yet, or it stopped' });
    expect(service.otherLines).toEqual([]);
  });
});

describe('the healthcheck command', () => {
  it('exit 2 without HEARTBEAT_FILE; a bad grace is a configuration error too', () => {
    const env = { PATH: process.env.PATH };
    const none = healthcheck('loader', env);
    expect(none.code).toBe(2);
    expect(none.line).toBe('health: HEARTBEAT_FILE is not set: the service writes no heartbeat to check');
    const bad = healthcheck('loader', { ...env, HEARTBEAT_FILE: join(work, 'x.json'), HEALTH_DB_GRACE_SECONDS: 'soon' });
    expect(bad.code).toBe(2);
    expect(bad.line).toMatch(/HEALTH_DB_GRACE_SECONDS must be a number of seconds/);
  });
});
