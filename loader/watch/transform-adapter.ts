/** The transform runner (loader/transform/) behind `transform --watch`: never waits for the lock. */
import { EXIT } from '../errors.js';
import { runTransform } from '../transform/index.js';
import type { TransformOnce } from './transform-service.js';

export const transformWithRunner: TransformOnce = async (db) => {
  try {
    const r = await runTransform(db, { wait: false });
    return {
      event: 'transformed',
      fields: {
        run_id: r.runId,
        full: r.full,
        full_reason: r.fullReason,
        loads: r.loads,
        rows_staged: r.rowsStaged,
        rows_clean: r.rowsClean,
        rows_quarantined: r.rowsQuarantined,
        rows_duplicate: r.rowsDuplicate,
      },
    };
  } catch (err) {
    // another instance holds the lock: it does the work; this one looks again at its next wake-up
    if ((err as { exitCode?: unknown }).exitCode === EXIT.busy) return { event: 'busy', fields: { reason: 'another transform holds the lock: this one is on standby' } };
    throw err;
  }
};
