/** Stopping a service: SIGTERM/SIGINT abort the work; what is still running after the grace time is abandoned. */
import type { EventLog } from './log.js';

/** Wait `ms`, or less if `signal` aborts; never rejects. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export interface Termination {
  /** aborts on the first SIGTERM or SIGINT */
  signal: AbortSignal;
  /** remove the handlers (the service has stopped; a grace timer already running still ends the process) */
  dispose(): void;
}

/**
 * The first SIGTERM or SIGINT aborts `signal`: the service finishes or drops what it is doing and returns.
 * If it is still busy `graceMs` later (or a second signal comes), the work in progress is abandoned: the
 * process exits 0 and its connections close. A load that never completed is never visible downstream (and
 * the next loader cleans up what it left); a transform run is one transaction, rolled back.
 */
export function onTermination(graceMs: number, log: EventLog): Termination {
  const controller = new AbortController();
  let finished = false;
  const abandon = (): void => {
    // finished, but a handle still keeps the process alive: exit as it would have
    if (finished) process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    log('abandoned', { reason: 'still busy when the grace time ran out: the work in progress is dropped, never half-visible' });
    process.exit(0);
  };
  const handler = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) return abandon();
    log('stopping', { signal: name, grace_seconds: graceMs / 1000 });
    controller.abort();
    setTimeout(abandon, graceMs).unref();
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return {
    signal: controller.signal,
    dispose() {
      finished = true;
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
    },
  };
}
