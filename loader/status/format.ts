/** The text form of `npm run status` (pure). */
import { duration } from './assess.js';
import type { StatusReport } from './types.js';

const n = (x: number) => x.toLocaleString('en-US');
const firstLine = (text: string | null) => (text ?? '').split('\n')[0];

export function formatStatus(r: StatusReport): string[] {
  const lines: string[] = [];
  const row = (label: string, text: string) => lines.push(`${(label + ':').padEnd(16)}${text}`);
  const l = r.newestLoad;
  row('newest load', l ? `load ${l.loadId}, ${l.source}, complete ${l.finishedAt} (${duration(l.ageSeconds)} ago)` : 'none complete yet');
  const w = r.waiting;
  row('waiting', w.count ? `${n(w.count)} complete load${w.count === 1 ? '' : 's'} not transformed yet; the oldest, load ${w.oldestLoadId}, has waited ${duration(w.waitedSeconds ?? 0)}` : 'none: every complete load is transformed');
  if (!r.running.length) row('running loads', 'none');
  for (const [i, x] of r.running.entries()) {
    const state = x.alive ? 'alive (its process holds the lock)' : 'abandoned: no process holds its lock (the next load marks it failed and cleans up)';
    row(i ? '' : 'running loads', `load ${x.loadId}, ${x.source}, since ${x.startedAt} (${duration(x.ageSeconds)}): ${state}`);
  }
  const f = r.failedSinceNewest;
  row('failed loads', f.count ? `${n(f.count)} since the newest complete load` : 'none since the newest complete load');
  for (const x of f.recent) row('', `load ${x.loadId}, ${x.source}: ${firstLine(x.error)}`);
  const t = r.lastRun;
  if (!t) row('last transform', 'never run');
  else {
    const kind = t.full ? `full (${t.fullReason ?? 'requested'})` : 'incremental';
    const when = t.status === 'running' ? `running since ${t.startedAt} (${duration(t.seconds)})` : `${t.status} ${t.finishedAt} (${duration(t.ageSeconds)} ago), took ${t.seconds.toFixed(1)} s`;
    row('last transform', `run ${t.runId}, ${when}, ${kind}, ${n(t.loads ?? 0)} load${t.loads === 1 ? '' : 's'}`);
  }
  const e = r.lastFailedRun;
  row('last failure', e ? `run ${e.runId} at ${e.finishedAt ?? e.startedAt}: ${firstLine(e.error)}` : 'none');
  row('as_of_date', r.asOfDate ?? 'none (no customer features yet)');
  row('features', r.views.length ? r.views.map((v) => `${v.name} ${v.rows === null ? `(${v.kind}, not counted)` : n(v.rows)}`).join(', ') : 'none (run npm run migrate)');
  lines.push(r.healthy ? 'healthy' : `unhealthy: ${r.problems.join('; ')}`);
  return lines;
}
