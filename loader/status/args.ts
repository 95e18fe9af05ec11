/** `npm run status` arguments: pure parsing, no I/O. */
import { parseArgs } from 'node:util';

import { EXIT, UserError } from '../errors.js';

export const statusUsage = `usage: status [--json] [--max-age HOURS] [--max-lag MINUTES]
  --json              print the status as one JSON object on stdout
  --max-age HOURS     unhealthy (exit 1) when the newest complete load finished more than HOURS ago, or there is none
  --max-lag MINUTES   unhealthy (exit 1) when a complete load has waited more than MINUTES for the transform
exit codes: 0 healthy; 1 unhealthy (one line on stderr says why: data too old, a load waits too long,
or the last transform failed); 2 usage error, cannot connect, or the database is not migrated`;

export interface StatusArgs {
  json: boolean;
  help: boolean;
  /** seconds */
  maxAge?: number;
  /** seconds */
  maxLag?: number;
}

function positive(flag: string, raw: string | undefined, unit: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) throw new UserError(`${flag} must be a number above 0, got "${raw}"\n${statusUsage}`, EXIT.usage);
  return value * unit;
}

export function parseStatusArgs(argv: string[]): StatusArgs {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: { json: { type: 'boolean', default: false }, 'max-age': { type: 'string' }, 'max-lag': { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n${statusUsage}`, EXIT.usage);
  }
  return {
    json: values.json ?? false,
    help: values.help ?? false,
    maxAge: positive('--max-age', values['max-age'], 3600),
    maxLag: positive('--max-lag', values['max-lag'], 60),
  };
}
