/**
 * node dist/loader/cli/health.js — the healthcheck of the loader and transform containers: reads the
 * service's heartbeat file (HEARTBEAT_FILE, written by the service itself) and exits 0 when healthy,
 * 1 when not (one line says why), 2 when HEARTBEAT_FILE or HEALTH_DB_GRACE_SECONDS is wrong.
 * It opens no database connection: it runs every few seconds, inside the service's container.
 */
import { readFile } from 'node:fs/promises';

import { EXIT, UserError } from '../errors.js';
import { healthSettings } from '../watch/args.js';
import { assessHeartbeat } from '../watch/health.js';
import { runMain } from './main.js';

runMain('health', async () => {
  const { file, dbGraceSeconds } = healthSettings(process.env);
  if (!file) throw new UserError('HEARTBEAT_FILE is not set: the service writes no heartbeat to check');
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new UserError(`cannot read the heartbeat file ${file}: ${err.message}`, EXIT.failed);
  });
  const verdict = assessHeartbeat(text, Date.now(), dbGraceSeconds);
  console.log(verdict.message);
  return verdict.healthy ? EXIT.ok : EXIT.failed;
});
