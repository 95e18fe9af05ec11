/**
 * `load --watch DIR`: the long-running loader. Loads every complete file that appears in DIR, up to
 * `--jobs` at a time, until SIGTERM; then stops starting files, lets the ones in progress finish within
 * the grace time, or abandons them (their transactions roll back: nothing of them is visible).
 */
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';

import { openDatabase, type Database } from '../db.js';
import { UserError } from '../errors.js';
import { parseWatchArgs } from './args.js';
import { watchInbox, type InboxFile, type Outcome } from './inbox.js';
import { startHeartbeat } from './heartbeat.js';
import { createEventLog, errorText, type EventLog } from './log.js';
import { onTermination } from './signals.js';

/** Load one file; resolves to what became of it. Throwing means "try again later". */
export type LoadOne = (db: Database, file: InboxFile, context: { signal: AbortSignal; log: EventLog }) => Promise<Outcome>;

/** Run `work` over `items` with at most `jobs` at once; no item is started once `signal` aborts. */
export async function inParallel<T>(items: readonly T[], jobs: number, signal: AbortSignal, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !signal.aborted) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
}

async function assertDirectory(dir: string): Promise<void> {
  const s = await stat(dir).catch(() => undefined);
  if (!s?.isDirectory()) throw new UserError(`--watch ${dir}: not a folder (the inbox must exist and be readable)`);
}

export interface LoadWatchOptions {
  env?: NodeJS.ProcessEnv;
  log?: EventLog;
  /** runs before the database is closed at the end (the adapter closes the connections it kept) */
  beforeClose?: (db: Database) => Promise<void>;
}

export async function runLoadWatch(argv: readonly string[], loadOne: LoadOne, options: LoadWatchOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const s = parseWatchArgs('load', argv, env);
  const dir = resolve(s.dir!);
  await assertDirectory(dir);
  const log = options.log ?? createEventLog('loader', s.json);
  const jobs = s.jobs ?? availableParallelism();
  const termination = onTermination(s.graceMs, log);
  let db: Database | undefined;
  let heartbeat: { stop(): Promise<void> } | undefined;
  try {
    db = await openDatabase({ env, poolSize: jobs + 1 });
    log('started', { database: db.describe, jobs });
    if (s.heartbeatFile) heartbeat = startHeartbeat({ file: s.heartbeatFile, service: 'loader', intervalMs: s.heartbeatMs, config: db.config });
    const opened = db;
    await watchInbox({
      dir,
      pollMs: s.pollMs,
      settleMs: s.settleMs,
      retryMs: s.retryMs,
      log,
      signal: termination.signal,
      load: (files, signal, report) =>
        inParallel(files, jobs, signal, async (file) => {
          log('loading', { file: file.path, bytes: file.size });
          let outcome: Outcome;
          try {
            outcome = await loadOne(opened, file, { signal, log });
          } catch (err) {
            outcome = { event: 'failed', retry: true, fields: { error: errorText(err) } };
          }
          report(file, outcome);
        }),
    });
    log('stopped');
    return 0;
  } finally {
    await heartbeat?.stop();
    if (db) await options.beforeClose?.(db);
    await db?.close();
    termination.dispose();
  }
}
