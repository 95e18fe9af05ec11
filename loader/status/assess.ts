/** Is the pipeline healthy? Pure: a status snapshot and the thresholds in, the problems out. */
import type { StatusSnapshot } from './types.js';

export interface Thresholds {
  /** seconds */
  maxAge?: number;
  /** seconds */
  maxLag?: number;
}

/** "45 s", "12 min", "3.2 h", "2.1 days" */
export function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} days`;
}

/**
 * The reasons for exit 1: the newest complete load is older than maxAge (or there is none), a complete
 * load has waited longer than maxLag for the transform, or the last finished transform run failed.
 */
export function problems(s: StatusSnapshot, t: Thresholds): string[] {
  const out: string[] = [];
  if (t.maxAge !== undefined) {
    if (!s.newestLoad) out.push(`no complete load yet (--max-age ${duration(t.maxAge)})`);
    else if (s.newestLoad.ageSeconds > t.maxAge) out.push(`data is ${duration(s.newestLoad.ageSeconds)} old: the newest complete load (load ${s.newestLoad.loadId}) finished ${s.newestLoad.finishedAt}, over --max-age ${duration(t.maxAge)}`);
  }
  if (t.maxLag !== undefined && s.waiting.count > 0 && (s.waiting.waitedSeconds ?? 0) > t.maxLag) {
    out.push(`load ${s.waiting.oldestLoadId} has waited ${duration(s.waiting.waitedSeconds!)} for the transform (${s.waiting.count} waiting), over --max-lag ${duration(t.maxLag)}`);
  }
  const failed = s.lastFailedRun;
  if (failed && (s.lastCompleteRunId === null || failed.runId > s.lastCompleteRunId)) {
    out.push(`the last transform failed (run ${failed.runId}): ${(failed.error ?? 'no error recorded').split('\n')[0]}`);
  }
  return out;
}
