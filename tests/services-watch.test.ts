/**
 * The watch loops on their own, with the load and transform functions passed in: the inbox watcher on a
 * real folder, the transform loop on a real PostgreSQL (NOTIFY from the meta.loads trigger, the fallback
 * check, coalescing, stopping). The real loader and transform under watch are in services.test.ts.
 */
import { mkdtempSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { openDatabase } from '../loader/db.js';
import { bundledDataDir } from '../loader/paths.js';
import { watchInbox, type InboxFile, type Outcome } from '../loader/watch/inbox.js';
import { closeIdle, IDLE_MS, loadWithLoader } from '../loader/watch/load-adapter.js';
import type { EventLog, Fields } from '../loader/watch/log.js';
import { runTransformLoop } from '../loader/watch/transform-loop.js';
import { pendingSql } from '../loader/watch/transform-service.js';
import { freshDatabase } from './support/db.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'watch-'));
  dirs.push(d);
  return d;
}

/** Resolves when `check` holds (polled); the test's own timeout is the bound, `what` names the wait. */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20, what));
}

function recorder(): { log: EventLog; events: { event: string; fields: Fields }[] } {
  const events: { event: string; fields: Fields }[] = [];
  return { events, log: (event, fields = {}) => void events.push({ event, fields }) };
}

describe('inbox watcher', () => {
  it('hands each complete file over once per version, in name order, skipping hidden and other files', async () => {
    const dir = tempDir();
    const handed: string[] = [];
    const { log, events } = recorder();
    const controller = new AbortController();
    const load = async (files: InboxFile[], _signal: AbortSignal, report: (f: InboxFile, o: Outcome) => void) => {
      for (const f of files) {
        handed.push(`${f.name}:${f.size}`);
        report(f, { event: 'loaded', fields: { rows_staged: 1 } });
      }
    };
    // all present before the first poll, so they settle together (written one by one while it polls, a slow
    // machine could settle b before it even sees a)
    writeFileSync(join(dir, 'b.csv'), 'h\n1\n');
    writeFileSync(join(dir, 'a.csv.gz'), 'xx');
    writeFileSync(join(dir, '.c.csv'), 'being written');
    writeFileSync(join(dir, 'notes.txt'), 'not data');
    mkdirSync(join(dir, 'sub.csv'));
    const watching = watchInbox({ dir, load, pollMs: 20, settleMs: 60, retryMs: 60_000, log, signal: controller.signal });
    await until(() => handed.length === 2, 'two files');
    expect(handed).toEqual(['a.csv.gz:2', 'b.csv:4']);

    renameSync(join(dir, '.c.csv'), join(dir, 'c.csv')); // the writer's rename: now it counts
    writeFileSync(join(dir, 'b.csv'), 'h\n1\n2\n'); // a new version of b
    await until(() => handed.length === 4, 'c and the new b');
    expect(handed.slice(2).sort()).toEqual(['b.csv:6', 'c.csv:13']);

    controller.abort();
    await watching;
    expect(handed).toHaveLength(4); // nothing handed twice while unchanged
    const ignored = events.filter((e) => e.event === 'ignored').map((e) => e.fields.file);
    expect(ignored.sort()).toEqual([join(dir, 'notes.txt'), join(dir, 'sub.csv')]);
    expect(events.filter((e) => e.event === 'loaded').map((e) => e.fields.file)).toHaveLength(4);
  });

  it('offers a file again after a failure that may pass, and not after one that will not', async () => {
    const dir = tempDir();
    const attempts = new Map<string, number>();
    const { log, events } = recorder();
    const controller = new AbortController();
    const load = async (files: InboxFile[], _signal: AbortSignal, report: (f: InboxFile, o: Outcome) => void) => {
      for (const f of files) {
        const n = (attempts.get(f.name) ?? 0) + 1;
        attempts.set(f.name, n);
        if (f.name === 'bad.csv') report(f, { event: 'failed', fields: { error: 'missing column Country' } });
        else if (n === 1) report(f, { event: 'failed', retry: true, fields: { error: 'connection lost' } });
        else report(f, { event: 'loaded' });
      }
    };
    const watching = watchInbox({ dir, load, pollMs: 20, settleMs: 20, retryMs: 100, log, signal: controller.signal });
    writeFileSync(join(dir, 'bad.csv'), 'x');
    writeFileSync(join(dir, 'flaky.csv'), 'y');
    await until(() => events.some((e) => e.event === 'loaded'), 'flaky loaded on its second attempt');
    controller.abort();
    await watching;
    expect(attempts.get('flaky.csv')).toBe(2);
    expect(attempts.get('bad.csv')).toBe(1);
    expect(events.find((e) => e.event === 'failed' && e.fields.file === join(dir, 'flaky.csv'))?.fields.retry_seconds).toBe(0.1);
  });

  it('stops once the load in progress returns, and offers files it never started to the next watcher', async () => {
    const dir = tempDir();
    const { log } = recorder();
    const controller = new AbortController();
    let started = 0;
    const load = async (files: InboxFile[], signal: AbortSignal) => {
      started = files.length;
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    };
    const watching = watchInbox({ dir, load, pollMs: 20, settleMs: 20, retryMs: 60_000, log, signal: controller.signal });
    writeFileSync(join(dir, 'a.csv'), 'a');
    await until(() => started === 1, 'load started');
    controller.abort();
    await watching; // returns: the load gave up on abort
    expect(started).toBe(1);
  });
});

describe('transform loop', async () => {
  const db = await freshDatabase();
  const pending = async () => (await db.pool.query<{ is_pending: boolean }>(pendingSql)).rows[0]!.is_pending;
  let sha = 0;
  const completeLoad = async (): Promise<number> => {
    const { rows } = await db.pool.query<{ load_id: number }>(
      `insert into meta.loads (source, sha256, byte_size, rows_read, rows_staged, rows_rejected, status, finished_at)
       values ('f.csv', lpad(to_hex($1::int), 64, '0'), 1, 0, 0, 0, 'complete', now()) returning load_id`,
      [++sha],
    );
    return rows[0]!.load_id;
  };
  /** What a transform does to the bookkeeping: every complete load it has not processed, processed. */
  const processAll = async (): Promise<number[]> => {
    const { rows } = await db.pool.query<{ load_id: number }>(
      `insert into meta.transform_loads (load_id, run_id, rows_staged, rows_clean, rows_quarantined, rows_duplicate)
       select load_id, 1, 0, 0, 0, 0 from meta.loads as l
        where status = 'complete' and not exists (select from meta.transform_loads as t where t.load_id = l.load_id)
       returning load_id`,
    );
    return rows.map((r) => r.load_id).sort((a, b) => a - b);
  };

  it('transforms at start, then on NOTIFY loads_completed, coalescing what completes during a run, and is idle while nothing is pending', async () => {
    const runs: number[][] = [];
    const { log, events } = recorder();
    const controller = new AbortController();
    let hold = false;
    let holding = false;
    let release: () => void = () => undefined;
    const first = await completeLoad();
    const loop = runTransformLoop({
      config: { connectionString: db.url },
      pending,
      transform: async () => {
        const processed = await processAll();
        if (hold) {
          holding = true;
          await new Promise<void>((r) => (release = r));
        }
        runs.push(processed);
        return { event: 'transformed' };
      },
      fallbackMs: 3_600_000, // only a notification can wake it
      log,
      signal: controller.signal,
    });
    await until(() => runs.length === 1, 'start-up run');
    expect(runs[0]).toEqual([first]);
    await until(() => events.some((e) => e.event === 'listening'), 'listening');
    const second = await completeLoad();
    await until(() => runs.length === 2, 'run on notification');
    expect(runs[1]).toEqual([second]);

    hold = true;
    const third = await completeLoad();
    await until(() => holding, 'a run in progress');
    hold = false;
    const during = [await completeLoad(), await completeLoad()];
    release();
    await until(async () => runs.length === 4 && !(await pending()), 'one more run for both');
    expect(runs.slice(2)).toEqual([[third], during]);

    // a load still running notifies nothing and is no work
    await db.pool.query(`insert into meta.loads (source, sha256) values ('r.csv', repeat('e', 64))`);
    expect(await pending()).toBe(false);
    controller.abort();
    await loop;
    expect(runs).toHaveLength(4);
    expect(events.filter((e) => e.event === 'transformed')).toHaveLength(4);
  });

  it('falls back to the periodic check when notifications cannot arrive', async () => {
    const runs: number[][] = [];
    const { log, events } = recorder();
    const controller = new AbortController();
    const loop = runTransformLoop({
      // a LISTEN connection that cannot log in
      config: { connectionString: db.url.replace(/:\/\/([^:]+):[^@]*@/, '://$1:wrong-password@') },
      pending,
      transform: async () => {
        runs.push(await processAll());
        return { event: 'transformed' };
      },
      fallbackMs: 50,
      log,
      signal: controller.signal,
    });
    await until(() => runs.length === 1, 'start-up run');
    const a = await completeLoad();
    await until(() => runs.length === 2, 'fallback run');
    controller.abort();
    await loop;
    expect(runs[1]).toEqual([a]);
    expect(events.some((e) => e.event === 'listen_failed')).toBe(true);
    expect(events.some((e) => e.event === 'listening')).toBe(false);
  });

  it('gets its LISTEN connection back after losing it, and checks for what it may have missed meanwhile', async () => {
    const runs: number[][] = [];
    const { log, events } = recorder();
    const controller = new AbortController();
    const loop = runTransformLoop({
      config: { connectionString: db.url },
      pending,
      transform: async () => {
        runs.push(await processAll());
        return { event: 'transformed' };
      },
      fallbackMs: 3_600_000, // only notifications and reconnections wake it
      log,
      signal: controller.signal,
    });
    await until(() => runs.length === 1 && events.some((e) => e.event === 'listening'), 'started');
    const terminated = await db.pool.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query = 'listen loads_completed'`,
    );
    expect(terminated.rowCount).toBe(1);
    const missed = await completeLoad(); // completes while nobody listens
    await until(() => runs.some((r) => r.includes(missed)), 'the missed load processed');
    const after = await completeLoad();
    await until(() => runs.some((r) => r.includes(after)), 'notifications arrive again');
    controller.abort();
    await loop;
    expect(events.filter((e) => e.event === 'listen_lost')).toHaveLength(1);
    expect(events.filter((e) => e.event === 'listening').length).toBeGreaterThanOrEqual(2);
  });

  it('logs a failed transform and tries again at the next wake-up', async () => {
    let calls = 0;
    const { log, events } = recorder();
    const controller = new AbortController();
    await completeLoad();
    const loop = runTransformLoop({
      config: { connectionString: db.url },
      pending,
      transform: async () => {
        calls += 1;
        if (calls === 1) throw new Error('sql/020_x.sql: division by zero');
        await processAll();
        return { event: 'transformed' };
      },
      fallbackMs: 50,
      log,
      signal: controller.signal,
    });
    await until(() => calls === 2, 'second attempt');
    controller.abort();
    await loop;
    expect(events.find((e) => e.event === 'transform_failed')?.fields.error).toBe('sql/020_x.sql: division by zero');
    expect(await pending()).toBe(false);
  });
  it('waits until loads stop completing (WATCH_QUIET_SECONDS), so a burst of files is one run; a steady stream still runs within the fallback time', async () => {
    const runs: number[][] = [];
    const { log, events } = recorder();
    const controller = new AbortController();
    const loop = runTransformLoop({
      config: { connectionString: db.url },
      pending,
      transform: async () => {
        runs.push(await processAll());
        return { event: 'transformed' };
      },
      fallbackMs: 3_600_000,
      quietMs: 1_500,
      log,
      signal: controller.signal,
    });
    await until(() => runs.length === 1 && events.some((e) => e.event === 'listening'), 'started');
    const burst: number[] = [];
    for (let i = 0; i < 6; i++) burst.push(await completeLoad());
    await until(async () => runs.length === 2 && !(await pending()), 'the run after the burst');
    expect(runs[1]).toEqual(burst); // one run for the six, not one per notification
    controller.abort();
    await loop;
    expect(events.find((e) => e.event === 'watching')?.fields).toMatchObject({ quiet_seconds: 1.5 });

    // loads every 100 ms never leave 400 ms of quiet: the wait ends at the fallback time (1 s) all the same
    const streamRuns: number[][] = [];
    const stream = new AbortController();
    const streaming = runTransformLoop({
      config: { connectionString: db.url },
      pending,
      transform: async () => {
        streamRuns.push(await processAll());
        return { event: 'transformed' };
      },
      fallbackMs: 1_000,
      quietMs: 400,
      log: () => undefined,
      signal: stream.signal,
    });
    await until(() => streamRuns.length === 1, 'start-up run');
    const stopAt = Date.now() + 4_000;
    while (Date.now() < stopAt) {
      await completeLoad();
      await new Promise((r) => setTimeout(r, 100));
    }
    const duringStream = streamRuns.length;
    stream.abort();
    await streaming;
    expect(duringStream, 'runs while loads kept completing (the start-up run included)').toBeGreaterThanOrEqual(2);
    await processAll();
  });

  it('as a standby (another transform holds the lock) says busy once, and again only after it ran in between', async () => {
    const { log, events } = recorder();
    const controller = new AbortController();
    let mode: 'busy' | 'run' = 'busy';
    let calls = 0;
    await completeLoad(); // pending work: a standby is woken by every check and finds the lock taken
    const loop = runTransformLoop({
      config: { connectionString: db.url },
      pending,
      transform: async () => {
        calls += 1;
        if (mode === 'busy') return { event: 'busy', fields: { reason: 'another transform holds the lock: this one is on standby' } };
        await processAll();
        return { event: 'transformed' };
      },
      fallbackMs: 20,
      log,
      signal: controller.signal,
    });
    const busyLines = () => events.filter((e) => e.event === 'busy');
    await until(() => calls >= 20, 'twenty busy attempts');
    expect(busyLines()).toHaveLength(1);
    expect(busyLines()[0]!.fields).toMatchObject({ reason: 'another transform holds the lock: this one is on standby' });
    mode = 'run';
    await completeLoad();
    await until(() => events.some((e) => e.event === 'transformed'), 'this instance runs');
    mode = 'busy';
    await completeLoad();
    const before = calls;
    await until(() => calls >= before + 20, 'twenty more busy attempts');
    controller.abort();
    await loop;
    expect(busyLines()).toHaveLength(2);
    // busy once, then it ran (once or more: a notification and the fallback may both wake it), then busy once more
    const sequence = events.map((e) => e.event).filter((e) => e === 'busy' || e === 'transformed');
    expect(sequence.filter((e, i) => e !== sequence[i - 1])).toEqual(['busy', 'transformed', 'busy']);
    await processAll();
  });
});

describe('the loader behind load --watch', async () => {
  const test = await freshDatabase();
  const backends = async (): Promise<number[]> =>
    (await test.pool.query<{ pid: number }>(`select pid from pg_stat_activity where datname = current_database() and application_name = 'retail-elt load' order by pid`)).rows.map((r) => r.pid);

  it('keeps a file\'s connections for the next file while files follow one another, and closes them once idle', async () => {
    const db = await openDatabase({ env: { DATABASE_URL: test.url }, migrate: false });
    const { log } = recorder();
    const signal = new AbortController().signal;
    const files: InboxFile[] = readdirSync(bundledDataDir).sort().slice(0, 6).map((name) => {
      const path = join(bundledDataDir, name);
      const st = statSync(path);
      return { name, path, size: st.size, mtimeMs: st.mtimeMs };
    });
    try {
      const seen: number[][] = [];
      for (const file of files) {
        expect(await loadWithLoader(db, file, { signal, log })).toMatchObject({ event: 'loaded' });
        seen.push(await backends());
      }
      // the same backends for every file: connected once, not three connections per file
      expect(new Set(seen.map((pids) => pids.join(','))).size).toBe(1);
      expect(seen[0]!.length).toBeGreaterThan(0);
      expect((await loadWithLoader(db, files[0]!, { signal, log })).event).toBe('skipped');
      await until(async () => (await backends()).length === 0, `idle connections closed after ${IDLE_MS} ms`);
      // and the next file after a pause starts on new ones
      const again = { ...files[0]!, path: join(tempDir(), 'again.csv.gz') };
      writeFileSync(again.path, 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\nX1,S1,d,1,2011-01-01 10:00:00,1.00,12345.0,United Kingdom\n');
      expect(await loadWithLoader(db, again, { signal, log })).toMatchObject({ event: 'loaded' });
      expect((await backends()).some((pid) => seen[0]!.includes(pid))).toBe(false);
    } finally {
      await closeIdle(db);
      await db.close();
    }
    expect(await backends()).toEqual([]);
  });
});
