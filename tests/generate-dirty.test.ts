/**
 * A generated dirty file, loaded and transformed by the real commands, is accounted for exactly:
 * every injected defect lands where the contract sends it (loader reject reason, quarantine reason),
 * at the line the manifest names, and meta.load_summary / core.transactions match the manifest's counts.
 * The manifest counts what the generator wrote; what it should become comes from the contract, and the
 * raw bytes of the rejects are checked independently.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Manifest } from '../loader/generate/manifest.js';
import { QUARANTINE_REASONS, REJECT_REASONS } from '../loader/generate/dirty.js';
import { projectRoot } from '../loader/paths.js';
import { freshDatabase } from './support/db.js';

const db = await freshDatabase();
const dir = mkdtempSync(join(tmpdir(), 'generate-dirty-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const generate = (...args: string[]) => execFileSync(process.execPath, ['dist/scripts/generate.js', '--quiet', ...args], { cwd: projectRoot });
const run = (cli: string, ...args: string[]) => spawnSync(process.execPath, [`dist/loader/cli/${cli}.js`, ...args], { cwd: projectRoot, env: db.env, encoding: 'utf8' });
const manifestOf = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Manifest;

const single = join(dir, 'dirty.csv');
const days = join(dir, 'days');
let one: Manifest;
let many: Manifest;

beforeAll(() => {
  generate('--rows', '4000', '--dirty', '0.04', '--seed', '5', '--out', single);
  // other days (so other invoice numbers: no row can equal one of the single file), gzip, one file per day
  generate('--rows', '6000', '--dirty', '0.04', '--seed', '9', '--from', '2011-06-01', '--gzip', '--split-by-day', days);
  one = manifestOf(`${single}.manifest.json`);
  many = manifestOf(`${days}.manifest.json`);
  for (const source of [single, days]) {
    const load = run('load', '--json', source);
    expect(load.status, load.stderr).toBe(0);
  }
  const transform = run('transform');
  expect(transform.status, transform.stderr).toBe(0);
}, 120_000);

/** every generated file with its manifest entry and its load */
async function files() {
  const { rows: loads } = await db.pool.query<{ load_id: number; source: string; status: string; rows_read: number; rows_staged: number; rows_rejected: number }>(
    'select load_id::int, source, status, rows_read::int, rows_staged::int, rows_rejected::int from meta.loads order by load_id',
  );
  const entries = [...one.files.map((f, i) => ({ m: one, i, f })), ...many.files.map((f, i) => ({ m: many, i, f }))];
  return entries.map((e) => {
    const matches = loads.filter((l) => basename(l.source) === basename(e.f.path) && l.status === 'complete');
    expect(matches, e.f.path).toHaveLength(1);
    return { ...e, load: matches[0]! };
  });
}

/** fields of one CSV record, counting only commas outside quotes */
function fieldCount(record: string): number {
  let n = 1;
  let quoted = false;
  for (const ch of record.trimEnd()) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) n++;
  }
  return n;
}

const positions = (m: Manifest, file: number, reasons: readonly string[]) =>
  reasons.flatMap((r) => (m.positions[r as keyof Manifest['positions']] ?? []).filter((p) => p.file === file).map((p) => `${r}@${p.line}`)).sort();

describe('a generated dirty file after load + transform', () => {
  it('injected every reject and quarantine reason', () => {
    expect(many.files.length).toBeGreaterThan(1);
    for (const r of REJECT_REASONS) expect(one.expected.rejects[r], r).toBeGreaterThan(0);
    for (const r of QUARANTINE_REASONS) expect(one.expected.quarantine[r], r).toBeGreaterThan(0);
    expect(one.expected.duplicates).toBeGreaterThan(0);
  });

  it('meta.loads: rows read, staged and rejected as the manifest says, per file', async () => {
    for (const { f, load } of await files()) {
      expect({ read: load.rows_read, staged: load.rows_staged, rejected: load.rows_rejected }, f.path).toEqual({
        read: f.expected.rows_read,
        staged: f.expected.rows_staged,
        rejected: f.expected.rows_rejected,
      });
    }
  });

  it('staging.load_rejects: each reason at the manifest line, raw bytes that show the defect', async () => {
    for (const { m, i, f, load } of await files()) {
      const { rows } = await db.pool.query<{ reason: string; line_no: number; raw: Buffer }>('select reason, line_no, raw from staging.load_rejects where load_id = $1', [load.load_id]);
      expect(rows.map((r) => `${r.reason}@${r.line_no}`).sort(), f.path).toEqual(positions(m, i, REJECT_REASONS));
      for (const r of rows) {
        if (r.reason === 'invalid_utf8') expect(r.raw.includes(Buffer.from([0xff, 0xfe])) || r.raw.includes(Buffer.from([0xc3, 0x28]))).toBe(true);
        if (r.reason === 'nul_byte') expect(r.raw.includes(0)).toBe(true);
        if (r.reason === 'record_too_large') expect(r.raw.length).toBe(64 * 1024);
        if (r.reason === 'field_count') expect([7, 9]).toContain(fieldCount(r.raw.toString('utf8')));
      }
    }
  });

  it('core.quarantine: each reason at the manifest line', async () => {
    for (const { m, i, f, load } of await files()) {
      const { rows } = await db.pool.query<{ reason: string; line_no: number }>('select reason, line_no from core.quarantine where load_id = $1', [load.load_id]);
      expect(rows.map((r) => `${r.reason}@${r.line_no}`).sort(), f.path).toEqual(positions(m, i, QUARANTINE_REASONS));
    }
  });

  it('meta.load_summary: quarantined per reason, duplicates and clean rows per load', async () => {
    for (const { f, load } of await files()) {
      const { rows } = await db.pool.query('select * from meta.load_summary where load_id = $1', [load.load_id]);
      const s = rows[0] as Record<string, number>;
      const e = f.expected;
      expect(
        { staged: Number(s.rows_staged), quarantined: Number(s.rows_quarantined), duplicates: Number(s.duplicates), clean: Number(s.rows_clean) },
        f.path,
      ).toEqual({ staged: e.rows_staged, quarantined: e.rows_quarantined, duplicates: e.duplicates, clean: e.rows_clean });
      for (const r of QUARANTINE_REASONS) expect(Number(s[`quarantined_${r}`]), `${f.path} ${r}`).toBe(e.quarantine[r]);
    }
  });

  it('core.transactions: the clean rows, by line kind', async () => {
    const { rows } = await db.pool.query<{ line_kind: string; n: number }>('select line_kind, count(*)::int as n from core.transactions group by line_kind');
    const got = Object.fromEntries(rows.map((r) => [r.line_kind, r.n]));
    const want: Record<string, number> = {};
    for (const m of [one, many]) for (const [k, n] of Object.entries(m.expected.line_kinds)) if (n) want[k] = (want[k] ?? 0) + n;
    expect(got).toEqual(want);
    expect(Object.values(got).reduce((s, n) => s + n, 0)).toBe(one.expected.rows_clean + many.expected.rows_clean);
  });
});
