/** Command line and environment of the watch modes: pure parsing, no I/O. */
import { UserError } from '../errors.js';

export interface WatchSettings {
  /** the inbox folder (load only) */
  dir?: string;
  json: boolean;
  /** files loaded at once (load only; undefined: the loader's default) */
  jobs?: number;
  pollMs: number;
  settleMs: number;
  retryMs: number;
  fallbackMs: number;
  /** how long no load may complete before the transform runs (transform only; at most fallbackMs after the first) */
  quietMs: number;
  graceMs: number;
  heartbeatMs: number;
  /** where the heartbeat goes (HEARTBEAT_FILE; none when unset) */
  heartbeatFile?: string;
}

type Env = Record<string, string | undefined>;

export const watchUsage = {
  load: 'usage: load --watch DIR [--json] [--jobs N]',
  transform: 'usage: transform --watch [--json]',
} as const;

/** Timing settings, in seconds (fractions allowed), from the environment. */
const timings = [
  ['pollMs', 'WATCH_POLL_SECONDS', 1],
  ['settleMs', 'WATCH_SETTLE_SECONDS', 2],
  ['retryMs', 'WATCH_RETRY_SECONDS', 30],
  ['fallbackMs', 'WATCH_FALLBACK_SECONDS', 60],
  ['quietMs', 'WATCH_QUIET_SECONDS', 2],
  ['graceMs', 'WATCH_GRACE_SECONDS', 5],
  ['heartbeatMs', 'WATCH_HEARTBEAT_SECONDS', 10],
] as const;

/** The healthcheck's settings: the heartbeat file the service writes, and how long the database may be away. */
export const healthVariables = ['HEARTBEAT_FILE', 'HEALTH_DB_GRACE_SECONDS'] as const;

/** Every variable the watch modes and their healthcheck read. */
export const watchVariables = [...timings.map(([, name]) => name), ...healthVariables];

export function healthSettings(env: Env): { file?: string; dbGraceSeconds: number } {
  const file = env.HEARTBEAT_FILE?.trim() || undefined;
  return { file, dbGraceSeconds: seconds(env, 'HEALTH_DB_GRACE_SECONDS', 60) / 1000 };
}

function seconds(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback * 1000;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 86_400) throw new UserError(`${name} must be a number of seconds above 0, got "${raw}"`);
  return Math.round(value * 1000);
}

/** True when the arguments ask for watch mode (so the CLI hands over to the service). */
export function wantsWatch(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--watch' || a.startsWith('--watch='));
}

export function parseWatchArgs(kind: 'load' | 'transform', argv: readonly string[], env: Env): WatchSettings {
  const usage = watchUsage[kind];
  const settings = Object.fromEntries(timings.map(([key, name, fallback]) => [key, seconds(env, name, fallback)])) as Pick<WatchSettings, (typeof timings)[number][0]>;
  let dir: string | undefined;
  let watch = false;
  let json = false;
  let jobs: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UserError(`${flag} needs a value; ${usage}`);
      return v;
    };
    if (flag === '--watch') {
      if (watch) throw new UserError(`--watch given twice; ${usage}`);
      watch = true;
      if (kind === 'load') dir = value();
      else if (inline !== undefined) throw new UserError(`transform --watch takes no value; ${usage}`);
    } else if (flag === '--json' && inline === undefined) json = true;
    else if (flag === '--jobs' && kind === 'load') {
      const raw = value();
      jobs = Number(raw);
      if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new UserError(`--jobs must be a whole number from 1 to 64, got "${raw}"`);
    } else throw new UserError(`${arg} is not an option of watch mode; ${usage}`);
  }
  if (!watch) throw new UserError(usage);
  return { ...settings, dir, json, jobs, heartbeatFile: env.HEARTBEAT_FILE?.trim() || undefined };
}
