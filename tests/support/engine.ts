/**
 * The compose stack under a real Docker Engine: is one reachable, which compose client to drive
 * (`docker compose` v2, else Debian's `docker-compose` 1.29), a project of its own (name, free host port,
 * a temporary env file of generated passwords), its containers' state and health, and `docker stats`.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { projectRoot } from '../../loader/paths.js';
import { loadEnvExample } from './compose.js';

/** Debian's client when installed (BuildKit built in; the README of the machines that run CI), else `docker` on PATH. */
export const dockerCli = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

/** What every docker and compose call gets: BuildKit on, for docker-compose 1.29 too. */
function clientEnv(): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_CONFIG', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY', 'TMPDIR'];
  const env: NodeJS.ProcessEnv = Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
  return { ...env, DOCKER_BUILDKIT: '1', COMPOSE_DOCKER_CLI_BUILD: '1' };
}

/** Does a Docker Engine answer (`docker info`)? If not, why, in one line. */
export function engineStatus(): { ok: true; version: string } | { ok: false; reason: string } {
  const info = spawnSync(dockerCli, ['info'], { env: clientEnv(), encoding: 'utf8', timeout: 20_000 });
  if (info.error) return { ok: false, reason: `no docker client (${dockerCli}: ${(info.error as NodeJS.ErrnoException).code ?? info.error.message})` };
  if (info.status !== 0) {
    // the client prints the server's error among its own info (stdout), and a summary on stderr
    const lines = `${info.stdout}\n${info.stderr}`.split('\n').map((l) => l.trim().replace(/^ERROR:\s*/, ''));
    const why = lines.find((l) => /cannot connect|error during connect|permission denied|no such host|connection refused/i.test(l)) ?? lines.find((l) => l && !/^WARNING/.test(l)) ?? `exit ${info.status}`;
    return { ok: false, reason: `no Docker Engine answers \`docker info\` (${why})` };
  }
  return { ok: true, version: /Server Version:\s*(\S+)/.exec(info.stdout)?.[1] ?? 'unknown' };
}

/** The compose client to drive: `docker compose` (v2) when the plugin is there, else `docker-compose` (1.29). */
export function composeClient(): { argv: string[]; version: string } | undefined {
  for (const argv of [[dockerCli, 'compose'], ['docker-compose']]) {
    const probe = spawnSync(argv[0]!, [...argv.slice(1), 'version', '--short'], { env: clientEnv(), encoding: 'utf8' });
    if (!probe.error && probe.status === 0 && /^v?\d+\.\d+/.test(probe.stdout.trim())) return { argv, version: probe.stdout.trim() };
  }
  return undefined;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command; never throws on a non-zero exit (the result says it). */
export function run(cmd: string, args: string[], options: { timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: clientEnv(), maxBuffer: 1 << 26, timeout: options.timeoutMs ?? 0, cwd: projectRoot }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && typeof (err as { code?: unknown }).code !== 'number' ? `\n${err.message}` : '') });
    });
  });
}

/** Like `run`, but a non-zero exit throws with the command and its output. */
export async function mustRun(cmd: string, args: string[], options: { timeoutMs?: number } = {}): Promise<RunResult> {
  const r = await run(cmd, args, options);
  if (r.code !== 0) throw new Error(`${[cmd, ...args].join(' ')} exited ${r.code}:\n${(r.stderr + r.stdout).trim().split('\n').slice(-30).join('\n')}`);
  return r;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface ContainerState {
  id: string;
  name: string;
  status: string;
  exitCode: number;
  restartCount: number;
  /** healthy | unhealthy | starting, or undefined without a healthcheck */
  health?: string;
  /** the last healthcheck's output */
  healthOutput?: string;
}

/** One compose project of the project's docker-compose.yml, under its own name, port and env file. */
export class Project {
  readonly dir = mkdtempSync(join(tmpdir(), 'compose-engine-'));
  readonly envFile = join(this.dir, 'env');
  readonly env: Record<string, string>;

  constructor(
    readonly name: string,
    readonly client: string[],
    overrides: Record<string, string>,
  ) {
    // .env.example, every empty value (the passwords) generated, then this run's settings
    const example = loadEnvExample();
    this.env = {
      ...Object.fromEntries(Object.entries(example).map(([k, v]) => [k, v === '' && k.endsWith('PASSWORD') ? randomBytes(18).toString('hex') : v])),
      COMPOSE_PROJECT_NAME: name,
      ...overrides,
    };
    writeFileSync(this.envFile, Object.entries(this.env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
  }

  /** `<client> -p NAME --project-directory ROOT -f docker-compose.yml --env-file FILE ARGS` */
  args(args: string[]): string[] {
    return [...this.client.slice(1), '-p', this.name, '--project-directory', projectRoot, '-f', join(projectRoot, 'docker-compose.yml'), '--env-file', this.envFile, ...args];
  }

  compose(args: string[], options: { timeoutMs?: number } = {}): Promise<RunResult> {
    return mustRun(this.client[0]!, this.args(args), options);
  }

  tryCompose(args: string[], options: { timeoutMs?: number } = {}): Promise<RunResult> {
    return run(this.client[0]!, this.args(args), options);
  }

  /** The ids of a service's containers (running or not). */
  async ids(service: string): Promise<string[]> {
    const r = await this.compose(['ps', '-a', '-q', service]);
    return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  }

  /** Every container of the project, by the compose labels (both clients set them). */
  async allIds(): Promise<string[]> {
    const r = await mustRun(dockerCli, ['ps', '-a', '-q', '--filter', `label=com.docker.compose.project=${this.name}`]);
    return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  }

  async states(service: string): Promise<ContainerState[]> {
    const ids = await this.ids(service);
    return ids.length ? inspect(ids) : [];
  }

  /** Down with the volume, and the temp folder removed; never throws (it runs in afterAll). */
  async destroy(): Promise<string> {
    const r = await this.tryCompose(['down', '-v', '--remove-orphans', '--timeout', '5'], { timeoutMs: 180_000 });
    rmSync(this.dir, { recursive: true, force: true });
    return r.code === 0 ? '' : `${this.name}: down -v exited ${r.code}: ${r.stderr.trim()}`;
  }
}

export async function inspect(ids: string[]): Promise<ContainerState[]> {
  const r = await mustRun(dockerCli, ['inspect', ...ids]);
  const raw = JSON.parse(r.stdout) as {
    Id: string;
    Name: string;
    RestartCount: number;
    State: { Status: string; ExitCode: number; Health?: { Status: string; Log?: { Output: string }[] } };
  }[];
  return raw.map((c) => ({
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    status: c.State.Status,
    exitCode: c.State.ExitCode,
    restartCount: c.RestartCount,
    health: c.State.Health?.Status,
    healthOutput: c.State.Health?.Log?.at(-1)?.Output.trim(),
  }));
}

/**
 * Polls `check` until it returns a value other than undefined; fails with `what` and the last state it saw
 * after `boundMs` (a bound against hanging, far above what any step takes: not a timing assertion).
 */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined>, describe: () => Promise<string>, boundMs = 300_000, everyMs = 500): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${boundMs / 1000} s; last seen: ${await describe()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `docker stats --no-stream` sampled every `everyMs` until stopped: each container's peak memory (MiB) and samples. */
export function sampleStats(ids: () => Promise<string[]>, everyMs = 1000): { stop(): Promise<{ peakMiB: Record<string, number>; samples: number }> } {
  const peak: Record<string, number> = {};
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const list = await ids().catch(() => []);
      if (list.length) {
        const r = await run(dockerCli, ['stats', '--no-stream', '--format', '{{.Name}}\t{{.MemUsage}}', ...list]);
        if (r.code === 0) samples += 1;
        for (const line of r.stdout.split('\n')) {
          const [name, usage] = line.split('\t');
          const mib = usage ? toMiB(usage.split('/')[0]!.trim()) : undefined;
          if (name && mib !== undefined) peak[name] = Math.max(peak[name] ?? 0, mib);
        }
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { peakMiB: peak, samples };
    },
  };
}

/** "12.3MiB" / "1.2GiB" / "800KiB" / "512B" → MiB */
export function toMiB(text: string): number | undefined {
  const m = /^([\d.]+)\s*([KMGT]?i?B)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2]!.toUpperCase().replace('I', 'i');
  const factor: Record<string, number> = { B: 1 / 1048576, KiB: 1 / 1024, KB: 1 / 1024, MiB: 1, MB: 1, GiB: 1024, GB: 1024, TiB: 1048576, TB: 1048576 };
  return factor[unit] === undefined ? undefined : Number(m[1]) * factor[unit]!;
}
