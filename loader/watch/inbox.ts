/**
 * The inbox watcher: polls one folder, and hands every file that is complete (size and mtime stable
 * for the settle time) to a load function, once per version of the file. It keeps no lock and makes
 * no decision the database should make: the loader's own guarantees (a sha256 loads once; a load in
 * progress elsewhere is not repeated) make several watchers on one folder safe.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { errorText, type EventLog, type Fields } from './log.js';
import { isInboxFile, Settler, type Observation } from './settle.js';
import { pause } from './signals.js';

export interface InboxFile extends Observation {
  path: string;
}

/** What became of one file: `retry` offers it again after `retryMs` (a failure that may pass, e.g. the database was away). */
export interface Outcome {
  event: 'loaded' | 'skipped' | 'failed';
  retry?: boolean;
  fields?: Fields;
}

export interface InboxOptions {
  dir: string;
  /**
   * Load these files (name order), calling `report` once per file as soon as it is done. Should stop starting
   * new files once `signal` aborts; files never reported are offered again on the next poll.
   */
  load: (files: InboxFile[], signal: AbortSignal, report: (file: InboxFile, outcome: Outcome) => void) => Promise<void>;
  pollMs: number;
  settleMs: number;
  retryMs: number;
  log: EventLog;
  signal: AbortSignal;
}

/** The regular files of `dir` that the inbox considers, with size and mtime; names it ignores are reported once. */
async function list(dir: string, ignored: Set<string>, log: EventLog): Promise<InboxFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: InboxFile[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || !isInboxFile(entry.name)) {
      if (!entry.name.startsWith('.') && !ignored.has(entry.name)) {
        ignored.add(entry.name);
        log('ignored', { file: join(dir, entry.name), reason: entry.isFile() ? 'not a .csv, .json, .jsonl or .ndjson file (or their .gz)' : 'not a regular file' });
      }
      continue;
    }
    const path = join(dir, entry.name);
    try {
      const s = await stat(path);
      files.push({ name: entry.name, path, size: s.size, mtimeMs: s.mtimeMs });
    } catch {
      /* removed between readdir and stat: the next poll will tell */
    }
  }
  return files;
}

/** Watch until `signal` aborts; returns once the load in progress (if any) has returned. */
export async function watchInbox(o: InboxOptions): Promise<void> {
  const settler = new Settler(o.settleMs);
  const ignored = new Set<string>();
  let unreadable = false;
  o.log('watching', { dir: o.dir, poll_seconds: o.pollMs / 1000, settle_seconds: o.settleMs / 1000 });
  while (!o.signal.aborted) {
    let listing: InboxFile[] | undefined;
    try {
      listing = await list(o.dir, ignored, o.log);
      if (unreadable) o.log('inbox_readable', { dir: o.dir });
      unreadable = false;
    } catch (err) {
      if (!unreadable) o.log('inbox_unreadable', { dir: o.dir, error: errorText(err) });
      unreadable = true;
    }
    const ready = listing ? settler.observe(listing, Date.now()) : [];
    if (ready.length && !o.signal.aborted) await hand(o, settler, ready);
    await pause(o.pollMs, o.signal);
  }
}

async function hand(o: InboxOptions, settler: Settler, files: InboxFile[]): Promise<void> {
  const reported = new Set<InboxFile>();
  const report = (f: InboxFile, outcome: Outcome): void => {
    reported.add(f);
    o.log(outcome.event, { file: f.path, ...outcome.fields, retry_seconds: outcome.retry ? o.retryMs / 1000 : undefined });
    if (outcome.retry) settler.retryAt(f, Date.now() + o.retryMs);
    else settler.done(f);
  };
  try {
    await o.load(files, o.signal, report);
  } catch (err) {
    const left = files.filter((f) => !reported.has(f));
    o.log('load_error', { files: left.map((f) => f.path), error: errorText(err), retry_seconds: o.retryMs / 1000 });
    for (const f of left) settler.retryAt(f, Date.now() + o.retryMs);
    return;
  }
  for (const f of files) if (!reported.has(f)) settler.retryAt(f, Date.now()); // not attempted (stopping)
}
