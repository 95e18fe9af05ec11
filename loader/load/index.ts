/**
 * The loader's programmatic API: load sources (files, directories, URLs, "-" for stdin) into
 * staging, `jobs` files at a time, each worker on its own connections.
 */
import { availableParallelism } from 'node:os';
import { relative } from 'node:path';

import type { Database } from '../db.js';
import { bundledDataDir } from '../paths.js';
import { Connections } from './copy.js';
import { loadOne } from './file.js';
import { HTTP_DEFAULTS } from './http.js';
import { sweepAbandoned } from './ledger.js';
import { expandSources } from './source.js';
import type { LoadEvent, LoadOptions, LoadResult } from './types.js';

export type { LoadEvent, LoadOptions, LoadResult, LoadStatus } from './types.js';
export { expandSources } from './source.js';

/** The bundled dataset's folder, as a path relative to the working directory when it is below it. */
export function bundledSource(): string {
  const rel = relative(process.cwd(), bundledDataDir);
  return rel && !rel.startsWith('..') ? rel : bundledDataDir;
}

export async function loadSources(db: Database, sources: string[], options: LoadOptions = {}): Promise<LoadResult[]> {
  const list = await expandSources(sources.length ? sources : [bundledSource()]);
  const emit = (e: LoadEvent) => options.onEvent?.(e);
  const results: LoadResult[] = new Array(list.length);
  if (list.length === 0) return [];
  const jobs = Math.max(1, Math.min(options.jobs ?? availableParallelism(), list.length));
  const first = new Connections(db.config);
  try {
    // leftovers of loads whose process died (any source, stdin included) go before anything else
    for (const id of await sweepAbandoned(await first.ctl())) {
      emit({ type: 'note', source: `load ${id}`, message: 'abandoned load cleaned up (its process ended mid-load)' });
    }
  } catch (err) {
    await first.close();
    throw err;
  }
  let next = 0;
  const worker = async (conns: Connections) => {
    try {
      while (next < list.length) {
        const i = next++;
        const result = await loadOne(conns, list[i]!, {
          force: options.force ?? false,
          streams: Math.max(1, options.streamsPerFile ?? 2),
          splitAfter: options.splitAfterBytes ?? 2 * 1024 * 1024,
          format: options.format,
          http: { ...HTTP_DEFAULTS, ...options.http },
          emit,
        });
        results[i] = result;
        emit({ type: 'done', result });
      }
    } finally {
      await conns.close();
    }
  };
  await Promise.all(Array.from({ length: jobs }, (_, k) => worker(k === 0 ? first : new Connections(db.config))));
  return results;
}
