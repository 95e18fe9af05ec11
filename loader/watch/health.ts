/** Is a service healthy, by its heartbeat file? Pure: the file's text, the time and the grace in, the verdict out. */
import type { Heartbeat } from './heartbeat.js';

export interface HealthVerdict {
  healthy: boolean;
  /** one line: what is wrong, or what is fine */
  message: string;
}

const secondsBetween = (from: string, now: number) => Math.max(0, (now - Date.parse(from)) / 1000);
const round = (s: number) => Math.round(s * 10) / 10;

/**
 * Unhealthy when the heartbeat has not been rewritten for 3 intervals (plus a second: a slow beat is not a
 * dead one), or when the database has not answered for longer than `dbGraceSeconds`.
 */
export function assessHeartbeat(text: string | undefined, now: number, dbGraceSeconds: number): HealthVerdict {
  if (text === undefined) return { healthy: false, message: 'no heartbeat file: the service has not started watching yet, or it stopped' };
  let h: Heartbeat;
  try {
    h = JSON.parse(text) as Heartbeat;
  } catch {
    return { healthy: false, message: 'the heartbeat file is not valid JSON' };
  }
  if (typeof h.beat_at !== 'string' || typeof h.interval_seconds !== 'number' || Number.isNaN(Date.parse(h.beat_at))) {
    return { healthy: false, message: 'the heartbeat file has no beat_at or interval_seconds' };
  }
  const silent = secondsBetween(h.beat_at, now);
  const allowed = 3 * h.interval_seconds + 1;
  if (silent > allowed) return { healthy: false, message: `no heartbeat for ${round(silent)} s (pid ${h.pid}; allowed ${round(allowed)} s): the process is stuck or gone` };
  const since = h.db_ok_at ?? h.started_at;
  const away = secondsBetween(since, now);
  if (away > dbGraceSeconds) {
    const what = h.db_ok_at ? `the database has not answered for ${round(away)} s` : `the database has not answered since the start, ${round(away)} s ago`;
    return { healthy: false, message: `${what} (grace ${dbGraceSeconds} s): ${h.db_error ?? 'no answer'}` };
  }
  return { healthy: true, message: `healthy: ${h.service} (pid ${h.pid}) beat ${round(silent)} s ago; the database answered ${round(away)} s ago` };
}
