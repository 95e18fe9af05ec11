/**
 * The transform loop: transform once at start (catching up, and applying changed sql/ definitions),
 * then whenever loads complete: a NOTIFY on `loads_completed` wakes it at once, and a periodic check
 * catches what a lost notification would miss. Notifications that arrive during a run are coalesced
 * into one more check after it. Several loops may run: the transform's advisory lock lets one work at
 * a time, and the check asks the database whether anything is left to do, so the others stay idle.
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
  log: EventLog;
  signal: AbortSignal;
}

/** Run until `signal` aborts; returns once the transform in progress (if any) has returned. */
export async function runTransformLoop(o: TransformLoopOptions): Promise<void> {
  let poked = false;
  let wake: () => void = () => undefined;
  const poke = (): void => {
    poked = true;
    wake();
  };
  const listener = new Listener({ config: o.config, channel: LOADS_CHANNEL, poke, log: o.log, signal: o.signal });
  await listener.start();
  o.log('watching', { channel: LOADS_CHANNEL, fallback_seconds: o.fallbackMs / 1000 });
  let caughtUp = false;
  try {
    while (!o.signal.aborted) {
      poked = false;
      if (!caughtUp || (await isPending(o))) caughtUp = (await runOnce(o)) || caughtUp;
      if (poked || o.signal.aborted) continue;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          o.signal.removeEventListener('abort', done);
          wake = () => undefined;
          resolve();
        };
        const timer = setTimeout(done, o.fallbackMs);
        o.signal.addEventListener('abort', done, { once: true });
        wake = done;
      });
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
async function runOnce(o: TransformLoopOptions): Promise<boolean> {
  if (o.signal.aborted) return false;
  const started = Date.now();
  try {
    const outcome = await o.transform(o.signal);
    o.log(outcome.event, { ...outcome.fields, seconds: (Date.now() - started) / 1000 });
    return true;
  } catch (err) {
    o.log('transform_failed', { error: errorText(err), seconds: (Date.now() - started) / 1000 });
    return false;
  }
}
