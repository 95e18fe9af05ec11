/**
 * The heartbeat of a long-running service, for its container's healthcheck (`node dist/loader/cli/health.js`):
 * every WATCH_HEARTBEAT_SECONDS the service asks the database `select 1` over a connection of its own and
 * rewrites HEARTBEAT_FILE (atomically: a temp file renamed) with when it beat and when the database last
 * answered. A file, not a table: the healthcheck runs inside the same container, so it needs no database
 * login and still tells "the process is stuck or gone" (the file stops changing) apart from "the database
 * is unreachable" (the file goes on, db_ok_at stays behind); each replica of a scaled service has its own.
 */
import { rename, rm, writeFile } from 'node:fs/promises';

import pg from 'pg';

import { errorText } from './log.js';
import { pause } from './signals.js';

export interface Heartbeat {
  service: string;
  pid: number;
  started_at: string;
  beat_at: string;
  interval_seconds: number;
  /** when the database last answered (null: not yet since the start) */
  db_ok_at: string | null;
  /** the last probe's error, when it failed */
  db_error: string | null;
}

export interface HeartbeatOptions {
  file: string;
  service: string;
  intervalMs: number;
  config: pg.ClientConfig;
}

/** Beat until stop() is called; stop() removes the file (a stopped service has no heartbeat). */
export function startHeartbeat(o: HeartbeatOptions): { stop(): Promise<void> } {
  const controller = new AbortController();
  const timeoutMs = Math.max(1000, Math.min(o.intervalMs, 5000));
  const pool = new pg.Pool({ ...o.config, max: 1, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, application_name: `${o.service} heartbeat` });
  pool.on('error', () => undefined);
  const state: Heartbeat = { service: o.service, pid: process.pid, started_at: new Date().toISOString(), beat_at: '', interval_seconds: o.intervalMs / 1000, db_ok_at: null, db_error: null };
  const temp = `${o.file}.${process.pid}.tmp`;
  const beat = async (): Promise<void> => {
    try {
      await pool.query('select 1');
      state.db_ok_at = new Date().toISOString();
      state.db_error = null;
    } catch (err) {
      state.db_error = errorText(err);
    }
    state.beat_at = new Date().toISOString();
    try {
      await writeFile(temp, JSON.stringify(state) + '\n');
      await rename(temp, o.file);
    } catch {
      /* an unwritable file: the healthcheck reports the heartbeat missing */
    }
  };
  const loop = (async () => {
    while (!controller.signal.aborted) {
      await beat();
      await pause(o.intervalMs, controller.signal);
    }
  })();
  return {
    async stop() {
      controller.abort();
      await loop;
      await pool.end().catch(() => undefined);
      await rm(o.file, { force: true }).catch(() => undefined);
      await rm(temp, { force: true }).catch(() => undefined);
    },
  };
}
