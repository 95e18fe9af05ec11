/**
 * The compose stack run for real, when a Docker Engine answers (`docker info`): the project image built,
 * the stack up under its own project name, host port and generated passwords, every healthcheck passing,
 * contract §5's headline figures read over the published port as the analyst login, `status` exiting 0;
 * then scaled (3 loaders, 2 transforms), a transform crashed and restarted, postgres stopped and started,
 * `down` and `up` keeping the data. `down -v` in afterAll, whatever failed.
 *
 * Every test title starts with `docker engine:` (CI requires them all to pass: .ci/run). Without an engine
 * the tests are skipped and the reason is printed once. The client is `docker compose` (v2) when the plugin
 * is there, else Debian's `docker-compose` 1.29; BuildKit is on for both. Timings are measured and printed
 * (docs/services.md has them), never asserted: each wait has only a generous bound against hanging.
 *
 * The image is built with `docker build --network host`: `npm ci` inside the build needs a route to the
 * npm registry, which containers on the default bridge do not have on every machine (CI's has none).
 */
import { readdirSync } from 'node:fs';

import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

import { bundledDataDir, projectRoot } from '../loader/paths.js';
import { pendingSql } from '../loader/watch/transform-service.js';
import { loadCompose } from './support/compose.js';
import {
  composeClient,
  dockerCli,
  engineStatus,
  freePort,
  inspect,
  mustRun,
  Project,
  run,
  sampleStats,
  waitUntil,
  type ContainerState,
} from './support/engine.js';

const engine = engineStatus();
const client = engine.ok ? composeClient() : undefined;
const skipReason = !engine.ok ? engine.reason : !client ? 'a Docker Engine answers, but neither `docker compose` nor `docker-compose` works' : undefined;
if (skipReason) console.warn(`compose-engine.test.ts skipped: ${skipReason}`);

const image = loadCompose().services.loader!.image!;
const files = readdirSync(bundledDataDir).filter((f) => f.endsWith('.csv.gz')).length;
const measured: Record<string, string> = {};
const note = (key: string, value: string): void => {
  measured[key] = value;
  console.log(`docker engine: ${key}: ${value}`);
};
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

let project: Project | undefined;
afterAll(async () => {
  if (!project) return;
  const problem = await project.destroy();
  if (Object.keys(measured).length) console.log(`docker engine: measured\n${Object.entries(measured).map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
  if (problem) throw new Error(problem);
}, 240_000);

describe.skipIf(skipReason !== undefined)(`the compose stack under a Docker Engine${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const p = (): Project => {
    if (!project) throw new Error('the stack was not set up (an earlier test failed)');
    return project;
  };
  const longRunning = ['loader', 'transform'] as const;
  const connect = async (user: string, password: string): Promise<pg.Client> => {
    const c = new pg.Client({ host: '127.0.0.1', port: Number(p().env.POSTGRES_PORT), database: p().env.POSTGRES_DB, user, password });
    await c.connect();
    return c;
  };
  const asSuperuser = () => connect(p().env.POSTGRES_USER!, p().env.POSTGRES_PASSWORD!);
  const asAnalyst = () => connect(p().env.ANALYST_DB_USER!, p().env.ANALYST_DB_PASSWORD!);
  const query = async <T extends pg.QueryResultRow>(c: () => Promise<pg.Client>, sql: string): Promise<T[]> => {
    const db = await c();
    try {
      return (await db.query<T>(sql)).rows;
    } finally {
      await db.end();
    }
  };

  /** Every loader and transform container, with its state. */
  const serviceStates = async (): Promise<ContainerState[]> => (await Promise.all(longRunning.map((s) => p().states(s)))).flat();
  const describeStates = async (): Promise<string> =>
    (await serviceStates().catch(() => [] as ContainerState[])).map((s) => `${s.name} ${s.status}/${s.health ?? '-'}${s.healthOutput ? ` (${s.healthOutput})` : ''}`).join('; ') || '(no containers)';
  const allHealth = async (want: string, counts: Record<string, number>): Promise<true | undefined> => {
    for (const s of longRunning) {
      const states = (await p().states(s)).filter((c) => c.status === 'running');
      if (states.length !== counts[s] || states.some((c) => c.health !== want)) return undefined;
    }
    return true;
  };

  /** The JSON event lines a container logged (docker logs: the current and earlier runs of that container). */
  const events = async (id: string): Promise<{ event: string; file?: string; [k: string]: unknown }[]> => {
    const r = await mustRun(dockerCli, ['logs', id]);
    return r.stdout.split('\n').flatMap((l) => {
      try {
        return [JSON.parse(l) as { event: string }];
      } catch {
        return [];
      }
    });
  };

  /** Contract §5's headline figures, as the analyst login over the published port. */
  const headline = async () => {
    const [summary] = await query<{ loads: number; read: number; staged: number; clean: number }>(
      asAnalyst,
      `select count(*)::int as loads, sum(rows_read)::int as read, sum(rows_staged)::int as staged, sum(rows_clean)::int as clean
         from meta.load_summary where status = 'complete'`,
    );
    const [customers] = await query<{ n: number }>(asAnalyst, 'select count(*)::int as n from features.customer_features');
    const [asOf] = await query<{ as_of: string[] }>(
      asAnalyst,
      `select array_agg(distinct to_char(last_purchase_at::date + recency_days, 'YYYY-MM-DD')) as as_of from features.customer_features`,
    );
    return { ...summary, customers: customers!.n, asOf: asOf!.as_of };
  };
  const expected = { loads: 305, read: 541909, staged: 541909, clean: 536641, customers: 4334, asOf: ['2011-12-10'] };

  /** Every bundled file loaded exactly once: one complete ledger row per sha256, none other. */
  const ledger = async () =>
    (await query<{ complete: number; distinct_files: number; other: number }>(
      asSuperuser,
      `select count(*) filter (where status = 'complete')::int as complete, count(distinct sha256) filter (where status = 'complete')::int as distinct_files,
              count(*) filter (where status <> 'complete')::int as other from meta.loads`,
    ))[0];

  /** Each loader container has looked at every file: loaded or skipped (already loaded) each once. */
  const loaderSawEveryFile = async (id: string): Promise<boolean> => {
    const seen = new Set((await events(id)).filter((e) => e.event === 'loaded' || e.event === 'skipped').map((e) => e.file));
    return seen.size === files;
  };

  it('docker engine: builds the project image (docker build, BuildKit, nothing pulled but the base image)', async () => {
    const versions = await run(dockerCli, ['version', '--format', 'engine {{.Server.Version}}, client {{.Client.Version}}']);
    note('clients', `${versions.stdout.trim()}; compose: ${client!.argv.join(' ')} ${client!.version}`);
    const started = Date.now();
    await mustRun(dockerCli, ['build', '--network', 'host', '-t', image, projectRoot], { timeoutMs: 900_000 });
    note('image build', seconds(Date.now() - started));
    const size = Number((await mustRun(dockerCli, ['image', 'inspect', '-f', '{{.Size}}', image])).stdout.trim());
    expect(size).toBeGreaterThan(0);
    note(`image ${image}`, `${Math.round(size / 1e6)} MB`);
  }, 960_000);

  it('docker engine: brings the stack up under its own project name and a free host port; every healthcheck passes', async () => {
    project = new Project(`retail-elt-test-${process.pid}`, client!.argv, {
      POSTGRES_PORT: String(await freePort()),
      INBOX_DIR: bundledDataDir,
      // short health timings, so the faults below show within seconds (docker-compose.yml reads them all)
      WATCH_HEARTBEAT_SECONDS: '2',
      HEALTH_INTERVAL_SECONDS: '2',
      HEALTH_DB_GRACE_SECONDS: '10',
      WATCH_RETRY_SECONDS: '5',
      WATCH_FALLBACK_SECONDS: '10',
    });
    const stats = sampleStats(() => p().allIds());
    const started = Date.now();
    await p().compose(['up', '-d', '--no-build'], { timeoutMs: 300_000 });
    note('up -d returned after', seconds(Date.now() - started));
    const transformed = await waitUntil(
      'every bundled file loaded and transformed',
      async () => {
        const rows = await query<{ complete: number; pending: boolean }>(asSuperuser, `select (select count(*)::int from meta.loads where status = 'complete') as complete, (${pendingSql}) as pending`).catch(() => []);
        return rows[0]?.complete === files && rows[0].pending === false ? Date.now() : undefined;
      },
      describeStates,
    );
    note(`up to transformed data (${files} files)`, seconds(transformed - started));
    const peaks = await stats.stop();
    note('peak memory while loading (docker stats --no-stream, sampled)', `${Object.entries(peaks.peakMiB).filter(([, m]) => m > 0).map(([n, m]) => `${n.replace(p().name, '').replace(/^[-_]/, '')} ${m.toFixed(0)} MiB`).sort().join(', ')} (${peaks.samples} samples)`);

    await waitUntil('loader and transform healthy', () => allHealth('healthy', { loader: 1, transform: 1 }), describeStates);
    note('up to loader and transform healthy', seconds(Date.now() - started));
    const [pgState] = await p().states('postgres');
    expect(pgState).toMatchObject({ status: 'running', health: 'healthy' });
    for (const oneShot of ['migrate', 'roles']) {
      const states = await p().states(oneShot);
      expect(states.map((s) => [s.status, s.exitCode]), oneShot).toEqual([['exited', 0]]);
    }
  }, 420_000);

  it('docker engine: contract §5 headline figures over the published port, as the analyst login; status exits 0', async () => {
    expect(await headline()).toEqual(expected);
    // the analyst reads features and meta.load_summary only
    await expect(query(asAnalyst, 'select count(*) from meta.loads')).rejects.toThrow(/permission denied/);
    const status = await p().tryCompose(['exec', '-T', 'transform', 'node', 'dist/loader/cli/status.js']);
    expect(status.stdout, status.stderr).toMatch(/\nhealthy\n?$/);
    expect(status.code).toBe(0);
  }, 120_000);

  it('docker engine: scaled to 3 loaders and 2 transforms, the figures are unchanged and each file was loaded once', async () => {
    const before = new Set(await p().ids('loader'));
    const started = Date.now();
    await p().compose(['up', '-d', '--no-build', '--scale', 'loader=3', '--scale', 'transform=2'], { timeoutMs: 300_000 });
    await waitUntil('3 loaders and 2 transforms healthy', () => allHealth('healthy', { loader: 3, transform: 2 }), describeStates);
    note('scale to 3 loaders and 2 transforms, until all healthy', seconds(Date.now() - started));
    const loaders = await p().ids('loader');
    expect(loaders).toHaveLength(3);
    for (const id of loaders) await waitUntil(`loader ${id.slice(0, 12)} looked at every file`, async () => ((await loaderSawEveryFile(id)) ? true : undefined), describeStates);
    // the loaders started by the scale-out skipped every file (already loaded), loading none
    const added = loaders.filter((id) => !before.has(id));
    expect(added.length).toBeGreaterThanOrEqual(2);
    for (const id of added) {
      const seen = await events(id);
      expect(seen.filter((e) => e.event === 'loaded'), id).toEqual([]);
      expect(new Set(seen.filter((e) => e.event === 'skipped').map((e) => e.file)).size, id).toBe(files);
    }
    // each file loaded once: one complete ledger row per file, nothing else
    expect(await ledger()).toEqual({ complete: files, distinct_files: files, other: 0 });
    expect(await headline()).toEqual(expected);
    // a standby transform says busy at most once (it logged one line per wake-up before)
    for (const id of await p().ids('transform')) expect((await events(id)).filter((e) => e.event === 'busy').length).toBeLessThanOrEqual(1);
  }, 420_000);

  it('docker engine: a transform that crashes (SIGKILL of its process) is restarted by Docker and healthy again; `docker kill` is a manual stop Docker leaves stopped', async () => {
    const [first, second] = await inspect(await p().ids('transform'));
    // a crash: the service's process (the child of the container's init, PID 1) killed from inside
    const started = Date.now();
    await mustRun(dockerCli, ['exec', first!.id, 'sh', '-c', 'kill -KILL $(cat /proc/1/task/1/children)']);
    const restarted = await waitUntil(
      'the crashed transform restarted and healthy',
      async () => {
        const [s] = await inspect([first!.id]);
        return s!.restartCount > first!.restartCount && s!.status === 'running' && s!.health === 'healthy' ? s : undefined;
      },
      describeStates,
    );
    expect(restarted.restartCount).toBe(first!.restartCount + 1);
    note('SIGKILLed transform (crash) to healthy again', seconds(Date.now() - started));

    // `docker kill` (any signal) marks the container manually stopped: restart: unless-stopped does not apply
    await mustRun(dockerCli, ['kill', '-s', 'KILL', second!.id]);
    await waitUntil('the killed transform stopped', async () => ((await inspect([second!.id]))[0]!.status === 'exited' ? true : undefined), describeStates);
    await new Promise((r) => setTimeout(r, 5_000)); // a crashed container is restarted after 0.1 s; this one stays down
    expect((await inspect([second!.id]))[0]).toMatchObject({ status: 'exited', restartCount: second!.restartCount });
    await mustRun(dockerCli, ['start', second!.id]);
    await waitUntil('the stopped transform started again and healthy', () => allHealth('healthy', { loader: 3, transform: 2 }), describeStates);
  }, 300_000);

  it('docker engine: with postgres stopped, every loader and transform turns unhealthy, and healthy again once it is back', async () => {
    const stopped = Date.now();
    await p().compose(['stop', 'postgres']);
    await waitUntil('every loader and transform unhealthy', () => allHealth('unhealthy', { loader: 3, transform: 2 }), describeStates);
    note(`postgres stopped to all unhealthy (HEALTH_DB_GRACE_SECONDS ${p().env.HEALTH_DB_GRACE_SECONDS}, heartbeat ${p().env.WATCH_HEARTBEAT_SECONDS} s, check every ${p().env.HEALTH_INTERVAL_SECONDS} s)`, seconds(Date.now() - stopped));
    const reasons = (await serviceStates()).map((s) => s.healthOutput ?? '');
    expect(reasons.every((r) => /the database has not answered/.test(r)), reasons.join('\n')).toBe(true);
    const back = Date.now();
    await p().compose(['start', 'postgres']);
    await waitUntil('every loader and transform healthy again', () => allHealth('healthy', { loader: 3, transform: 2 }), describeStates);
    note('postgres started to all healthy again', seconds(Date.now() - back));
    expect(await headline()).toEqual(expected);
  }, 300_000);

  it('docker engine: `down` then `up` keeps the data, and the loader skips every file', async () => {
    await p().compose(['down', '--timeout', '20'], { timeoutMs: 180_000 });
    expect(await p().allIds()).toEqual([]);
    const started = Date.now();
    await p().compose(['up', '-d', '--no-build'], { timeoutMs: 300_000 });
    await waitUntil('loader and transform healthy after up', () => allHealth('healthy', { loader: 1, transform: 1 }), describeStates);
    const [loader] = await p().ids('loader');
    await waitUntil('the loader looked at every file', async () => ((await loaderSawEveryFile(loader!)) ? true : undefined), describeStates);
    note('down, up, until the loader skipped every file', seconds(Date.now() - started));
    const seen = await events(loader!);
    expect(seen.filter((e) => e.event === 'loaded')).toEqual([]);
    expect(seen.filter((e) => e.event === 'skipped')).toHaveLength(files);
    expect(await ledger()).toEqual({ complete: files, distinct_files: files, other: 0 });
    expect(await headline()).toEqual(expected);
  }, 420_000);
});
