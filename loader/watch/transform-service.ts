/**
 * `transform --watch`: the long-running transform. Transforms at start, then whenever loads complete
 * (NOTIFY loads_completed, with a periodic check as fallback), until SIGTERM.
 */
import { openDatabase, type Database } from '../db.js';
import { parseWatchArgs } from './args.js';
import { startHeartbeat } from './heartbeat.js';
import { createEventLog, type EventLog } from './log.js';
import { onTermination } from './signals.js';
import { runTransformLoop, type TransformOutcome } from './transform-loop.js';

/** One transform that does not wait for the lock: `busy` when another one runs. */
export type TransformOnce = (db: Database, signal: AbortSignal) => Promise<TransformOutcome>;

/**
 * Work left for the transform: a complete load it has not processed, or a processed load that is
 * no longer complete (replaced by `load --force`). Read from the transform's own bookkeeping, so
 * every instance sees the same answer.
 */
export const pendingSql = `
with
complete_loads as (
  select load_id from meta.loads where status = 'complete'
),
processed_loads as (
  select load_id from meta.transform_loads
),
final as (
  select
    exists (select from complete_loads as c where not exists (select from processed_loads as p where p.load_id = c.load_id))
    or exists (select from processed_loads as p where not exists (select from complete_loads as c where c.load_id = p.load_id))
    as is_pending
)
select is_pending from final`;

export interface TransformWatchOptions {
  env?: NodeJS.ProcessEnv;
  log?: EventLog;
}

export async function runTransformWatch(argv: readonly string[], transformOnce: TransformOnce, options: TransformWatchOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const s = parseWatchArgs('transform', argv, env);
  const log = options.log ?? createEventLog('transform', s.json);
  const termination = onTermination(s.graceMs, log);
  let db: Database | undefined;
  let heartbeat: { stop(): Promise<void> } | undefined;
  try {
    db = await openDatabase({ env });
    log('started', { database: db.describe });
    if (s.heartbeatFile) heartbeat = startHeartbeat({ file: s.heartbeatFile, service: 'transform', intervalMs: s.heartbeatMs, config: db.config });
    const opened = db;
    await runTransformLoop({
      config: opened.config,
      pending: async () => (await opened.pool.query<{ is_pending: boolean }>(pendingSql)).rows[0]?.is_pending ?? true,
      transform: (signal) => transformOnce(opened, signal),
      fallbackMs: s.fallbackMs,
      quietMs: s.quietMs,
      log,
      signal: termination.signal,
    });
    log('stopped');
    return 0;
  } finally {
    await heartbeat?.stop();
    await db?.close();
    termination.dispose();
  }
}
