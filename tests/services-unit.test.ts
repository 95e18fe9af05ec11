/** Pure parts of the watch modes: which inbox files are complete, the arguments, the log lines. */
import { describe, expect, it } from 'vitest';

import { parseWatchArgs, wantsWatch } from '../loader/watch/args.js';
import { assessHeartbeat } from '../loader/watch/health.js';
import { formatEvent } from '../loader/watch/log.js';
import { isInboxFile, Settler, type Observation } from '../loader/watch/settle.js';

const obs = (name: string, size: number, mtimeMs = 1000): Observation => ({ name, size, mtimeMs });
const names = (list: Observation[]) => list.map((o) => o.name);

describe('inbox settling', () => {
  it('offers a file once its size and mtime stayed the same for the settle time, then never again while unchanged', () => {
    const s = new Settler(2000);
    expect(s.observe([obs('a.csv', 10)], 0)).toEqual([]); // first sight
    expect(s.observe([obs('a.csv', 10)], 1000)).toEqual([]); // stable for 1 s only
    const ready = s.observe([obs('a.csv', 10)], 2000);
    expect(names(ready)).toEqual(['a.csv']);
    s.done(ready[0]!);
    expect(s.observe([obs('a.csv', 10)], 3000)).toEqual([]);
  });

  it('restarts the clock whenever the file grows or is rewritten', () => {
    const s = new Settler(2000);
    s.observe([obs('a.csv', 10)], 0);
    s.observe([obs('a.csv', 20, 1500)], 1500); // still being written
    expect(s.observe([obs('a.csv', 20, 1500)], 3000)).toEqual([]); // 1.5 s since the change
    expect(names(s.observe([obs('a.csv', 20, 1500)], 3500))).toEqual(['a.csv']);
  });

  it('offers a new version of a handled file, and a file that came back after it was removed', () => {
    const s = new Settler(0);
    s.observe([obs('a.csv', 10)], 0);
    s.done(s.observe([obs('a.csv', 10)], 1)[0]!);
    s.observe([obs('a.csv', 11, 2)], 2);
    expect(names(s.observe([obs('a.csv', 11, 2)], 3))).toEqual(['a.csv']);
    s.done(obs('a.csv', 11, 2));
    s.observe([], 4); // removed
    s.observe([obs('a.csv', 11, 2)], 5);
    expect(names(s.observe([obs('a.csv', 11, 2)], 6))).toEqual(['a.csv']);
  });

  it('holds a file back until its retry time, and lists ready files in name order', () => {
    const s = new Settler(0);
    const listing = [obs('b.csv', 1), obs('a.csv.gz', 1)];
    s.observe(listing, 0);
    const ready = s.observe(listing, 1);
    expect(names(ready)).toEqual(['a.csv.gz', 'b.csv']);
    s.retryAt(ready[0]!, 100);
    s.done(ready[1]!);
    expect(s.observe(listing, 50)).toEqual([]);
    expect(names(s.observe(listing, 100))).toEqual(['a.csv.gz']);
  });

  it('considers .csv and .csv.gz files, never hidden ones (a writer stages a file as .name, then renames it)', () => {
    expect(['a.csv', 'B.CSV', 'c.csv.gz', 'd.Csv.Gz'].every(isInboxFile)).toBe(true);
    expect(['.a.csv', 'a.csv.part', 'a.txt', 'a.gz', 'csv', 'a.csv.tmp'].some(isInboxFile)).toBe(false);
  });
});

describe('watch arguments', () => {
  it('reads the inbox folder, --json and --jobs, with timings from the environment', () => {
    const s = parseWatchArgs('load', ['--watch', '/inbox', '--json', '--jobs=3'], { WATCH_POLL_SECONDS: '0.25', WATCH_GRACE_SECONDS: '8' });
    expect(s).toMatchObject({ dir: '/inbox', json: true, jobs: 3, pollMs: 250, graceMs: 8000, settleMs: 2000, fallbackMs: 60_000, retryMs: 30_000 });
    expect(parseWatchArgs('load', ['--watch=/x'], {}).dir).toBe('/x');
    expect(parseWatchArgs('transform', ['--json', '--watch'], { WATCH_FALLBACK_SECONDS: '5' })).toMatchObject({ json: true, fallbackMs: 5000, quietMs: 2000 });
    expect(parseWatchArgs('transform', ['--watch'], { WATCH_QUIET_SECONDS: '0.5' }).quietMs).toBe(500);
  });

  it('refuses what watch mode does not take, with the usage', () => {
    expect(() => parseWatchArgs('load', ['--watch'], {})).toThrow(/--watch needs a value/);
    expect(() => parseWatchArgs('load', ['--watch', 'd', '--force'], {})).toThrow(/--force is not an option of watch mode; usage: load --watch DIR/);
    expect(() => parseWatchArgs('transform', ['--watch', '--jobs', '2'], {})).toThrow(/--jobs is not an option/);
    expect(() => parseWatchArgs('transform', ['--watch=x'], {})).toThrow(/takes no value/);
    expect(() => parseWatchArgs('load', ['--watch', 'd', '--jobs', '0'], {})).toThrow(/--jobs must be/);
    expect(() => parseWatchArgs('load', ['--watch', 'd'], { WATCH_SETTLE_SECONDS: 'soon' })).toThrow(/WATCH_SETTLE_SECONDS must be a number of seconds/);
    expect(() => parseWatchArgs('load', ['--watch', 'd'], { WATCH_POLL_SECONDS: '0' })).toThrow(/WATCH_POLL_SECONDS/);
  });

  it('tells watch mode apart from a plain run', () => {
    expect(wantsWatch(['--watch', 'd'])).toBe(true);
    expect(wantsWatch(['--watch=d'])).toBe(true);
    expect(wantsWatch(['data/', '--json'])).toBe(false);
  });
});

describe('event lines', () => {
  const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));

  it('are one JSON object per line with --json, undefined fields left out', () => {
    const line = formatEvent(at, 'loader', 'loaded', { file: '/inbox/a b.csv', rows_staged: 3, error: undefined }, true);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({ at: '2026-01-02T03:04:05.000Z', service: 'loader', event: 'loaded', file: '/inbox/a b.csv', rows_staged: 3 });
  });

  it('are readable key=value lines otherwise, quoting values that are not one plain word', () => {
    const line = formatEvent(at, 'transform', 'transform_failed', { error: 'x "y"\nz', seconds: 1.5, files: ['a', 'b'] }, false);
    expect(line).toBe('2026-01-02T03:04:05.000Z transform transform_failed error="x \\"y\\"\\nz" seconds=1.5 files="a,b"');
  });
});

describe('heartbeat verdict (the healthcheck, pure)', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000).toISOString();
  const beat = (o: Record<string, unknown>) =>
    JSON.stringify({ service: 'loader', pid: 7, started_at: at(300), beat_at: at(2), interval_seconds: 10, db_ok_at: at(2), db_error: null, ...o });

  it('is healthy while the beat is fresh and the database answered within the grace', () => {
    expect(assessHeartbeat(beat({}), now, 60)).toEqual({ healthy: true, message: 'healthy: loader (pid 7) beat 2 s ago; the database answered 2 s ago' });
    expect(assessHeartbeat(beat({ beat_at: at(31), db_ok_at: at(31) }), now, 60).healthy).toBe(true); // 3 intervals + 1 s
    expect(assessHeartbeat(beat({ db_ok_at: null, started_at: at(30) }), now, 60).healthy).toBe(true); // still within the grace since the start
  });

  it('is unhealthy when the beat stops, the database is away past the grace, or there is no usable file', () => {
    expect(assessHeartbeat(beat({ beat_at: at(40) }), now, 60)).toEqual({ healthy: false, message: 'no heartbeat for 40 s (pid 7; allowed 31 s): the process is stuck or gone' });
    expect(assessHeartbeat(beat({ db_ok_at: at(75), db_error: 'connect ECONNREFUSED' }), now, 60)).toEqual({
      healthy: false,
      message: 'the database has not answered for 75 s (grace 60 s): connect ECONNREFUSED',
    });
    expect(assessHeartbeat(beat({ db_ok_at: null, started_at: at(90) }), now, 60).message).toMatch(/^the database has not answered since the start, 90 s ago/);
    expect(assessHeartbeat(undefined, now, 60).message).toMatch(/^no heartbeat file/);
    expect(assessHeartbeat('{"beat', now, 60).message).toBe('the heartbeat file is not valid JSON');
    expect(assessHeartbeat('{}', now, 60).healthy).toBe(false);
  });
});
