/**
 * The transform loop: transform once at start (catching up, and applying changed sql/ definitions),
 * then whenever loads complete: a NOTIFY on `loads_completed` wakes it, and a periodic check
 * catches what a lost notification would miss. Notifications that arrive during a run are coalesced
 * into one more check after it. Several loops may run: the transform's advisory lock lets one work at
 * a time, and the check asks the database whether anything is left to do, so the others stay idle.
 *
 * Quiet time: a notification does not start a run at once. The loop waits until no load has completed
 * for `quietMs` (each notification starts that wait again), but never longer than `fallbackMs` after the
 * first one. A burst of files (a fresh stack loading its whole inbox) is then one run over the whole
 * batch instead of a run every few files, each competing with the loader for the database and the later
 * ones merging a batch nearly as large as core row by row (a fresh compose stack before this: incremental
 * runs of 92 and 108 loads onto 105 and 197 took 13 s and 17 s; one full run of all 305 takes 12.6 s).
 * A single file waits `quietMs` longer.
 *
 * Standby: while another instance holds the transform lock this one logs `busy` once, and again only
 * after it has run a transform (or failed to) in between: a standby replica does not log every wake-up.
 */
import type pg from 'pg';

import { errorText, type EventLog, type Fields } from './log.js';
import { Listener } from './listen.js';

export const LOADS_CHANNEL = 'loads_completed';

export interface TransformOutcome {
  /** `busy`: another transform held the lock; the loop waits for the next wake-up */
  event: 'transformed' | 'busy';
  fields?: Fields;
}

export interface TransformLoopOptions {
  /** settings for the LISTEN connection */
  config: pg.ClientConfig;
  /** is there work the transform has not done yet? (an error counts as yes) */
  pending: () => Promise<boolean>;
  transform: (signal: AbortSignal) => Promise<TransformOutcome>;
  fallbackMs: number;
  /** after a notification, wait until none came for this long (at most fallbackMs); 0 or unset: run at once */
  quietMs?: number;
  log: EventLog;
  signal: AbortSignal;
}

interface LoopState {
  /** the last attempt found another transform holding the lock, and said so */
  standby: boolean;
}

/** Run until `signal` aborts; returns once the transform in progress (if any) has returned. */
export async function runTransformLoop(o: TransformLoopOptions): Promise<void> {
  let poked = false;
  let lastPokeAt = 0;
  let wake: () => void = () => undefined;
  const poke = (): void => {
    poked = true;
    lastPokeAt = Date.now();
    wake();
  };
  /** Resolves after `ms`, at abort, or (when `wakeable`) at the next poke. */
  const sleep = (ms: number, wakeable: boolean): Promise<void> =>
    new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        o.signal.removeEventListener('abort', done);
        wake = () => undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      o.signal.addEventListener('abort', done, { once: true });
      if (wakeable) wake = done;
    });
  /** After a poke: wait while loads go on completing (Quiet time, above). */
  const quiet = async (): Promise<void> => {
    const quietMs = o.quietMs ?? 0;
    const deadline = Date.now() + Math.max(quietMs, o.fallbackMs);
    while (quietMs > 0 && !o.signal.aborted) {
      const end = Math.min(lastPokeAt + quietMs, deadline);
      if (Date.now() >= end) return;
      await sleep(end - Date.now(), false);
    }
  };
  const listener = new Listener({ config: o.config, channel: LOADS_CHANNEL, poke, log: o.log, signal: o.signal });
  await listener.start();
  o.log('watching', { channel: LOADS_CHANNEL, fallback_seconds: o.fallbackMs / 1000, quiet_seconds: (o.quietMs ?? 0) / 1000 });
  const state: LoopState = { standby: false };
  let caughtUp = false;
  try {
    while (!o.signal.aborted) {
      poked = false;
      if (!caughtUp || (await isPending(o))) caughtUp = (await runOnce(o, state)) || caughtUp;
      if (o.signal.aborted) break;
      if (!poked) await sleep(o.fallbackMs, true);
      if (poked) await quiet();
    }
  } finally {
    await listener.close();
  }
}

async function isPending(o: TransformLoopOptions): Promise<boolean> {
  if (o.signal.aborted) return false;
  try {
    return await o.pending();
  } catch (err) {
    o.log('check_failed', { error: errorText(err) });
    return true;
  }
}

/** One transform; true when it completed or another instance was running one (that one catches up). */
async function runOnce(o: TransformLoopOptions, state: LoopState): Promise<boolean> {
  if (o.signal.aborted) return false;
  const started = Date.now();
  try {
    const outcome = await o.transform(o.signal);
    if (outcome.event === 'busy') {
      // standby: said once; said again only after this instance ran (or failed) in between
      if (!state.standby) o.log('busy', { ...outcome.fields, standby: 'logged once, until this instance runs a transform' });
      state.standby = true;
      return true;
    }
    state.standby = false;
    o.log(outcome.event, { ...outcome.fields, seconds: (Date.now() - started) / 1000 });
    return true;
  } catch (err) {
    state.standby = false;
    o.log('transform_failed', { error: errorText(err), seconds: (Date.now() - started) / 1000 });
    return false;
  }
}
