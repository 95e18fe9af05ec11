/** The benchmark's pure parts: options, statistics, the rotation of contenders, the printed table. */
import { describe, expect, it } from 'vitest';

import { measure } from '../loader/bench/measure.js';
import { goals, incrementalExponent, median, pairRatio, parseBenchArgs, rotation, scaling, stageLine, stageTimes, summarize, table } from '../loader/bench/stats.js';

describe('bench statistics', () => {
  it('takes the median of odd and even samples', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(summarize([])).toBeNull();
    expect(summarize([{ seconds: 2, peakRssMb: 100 }, { seconds: 1, peakRssMb: null }, { seconds: 5, peakRssMb: 120 }])).toEqual({ n: 3, median: 2, min: 1, max: 5, peakRssMb: 120 });
  });

  it('rotates the contenders so each one runs first once in every cycle', () => {
    const names = ['psql', 'load', 'pgloader'];
    const firsts = [0, 1, 2].map((r) => rotation(names, r)[0]);
    expect(new Set(firsts)).toEqual(new Set(names));
    for (let r = 0; r < 5; r++) expect([...rotation(names, r)].sort()).toEqual([...names].sort());
  });

  it('prints rows/s and the ratio to the psql floor, and why a contender has no figures', () => {
    const out = table(
      [
        { contender: 'psql \\copy', rows: 1000, summary: { n: 3, median: 2, min: 1, max: 3, peakRssMb: 12 } },
        { contender: 'npm run load', rows: 1000, summary: { n: 3, median: 1, min: 1, max: 1, peakRssMb: 100 }, pairRatio: 0.7 },
        { contender: 'pgloader', rows: 1000, summary: null, note: 'not installed' },
      ],
      2,
    );
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/median s\s+min s\s+max s\s+rows\/s\s+× psql\s+× psql pairs\s+peak RSS MB/);
    expect(lines.find((l) => l.startsWith('psql'))).toMatch(/2\.00\s+1\.00\s+3\.00\s+500\s+1\.00\s+12$/);
    expect(lines.find((l) => l.startsWith('npm run load'))).toMatch(/1,000\s+0\.50\s+0\.70\s+100$/);
    expect(lines.find((l) => l.startsWith('pgloader'))).toMatch(/not installed$/);
  });

  it('parses its options', () => {
    expect(parseBenchArgs([])).toMatchObject({ rows: [1_000_000, 4_000_000], reps: 3, seed: 1, skip: [] });
    expect(parseBenchArgs(['--rows', '1e6,10M', '--reps', '5', '--skip', 'pgloader'])).toMatchObject({ rows: [1_000_000, 10_000_000], reps: 5, skip: ['pgloader'] });
    expect(() => parseBenchArgs(['--skip', 'mysql'])).toThrow(/--skip/);
    // the shape of the history and who runs it: both shapes, as the service logins, unless asked
    expect(parseBenchArgs([])).toMatchObject({ shapes: ['one file', 'daily files'], runAs: 'service logins' });
    expect(parseBenchArgs(['--shapes', 'daily', '--as', 'superuser'])).toMatchObject({ shapes: ['daily files'], runAs: 'superuser' });
    expect(() => parseBenchArgs(['--shapes', 'weekly'])).toThrow(/--shapes/);
    expect(() => parseBenchArgs(['--as', 'root'])).toThrow(/--as/);
    expect(() => parseBenchArgs(['--reps', '0'])).toThrow(/positive/);
  });
});

describe('bench scaling', () => {
  it('gives the median at each size and the growth exponent between sizes', () => {
    const step = (rows: number, median: number) => ({ contender: 'load', rows, summary: { n: 3, median, min: median, max: median, peakRssMb: null } });
    const out = scaling([
      { rows: 1_000_000, steps: [step(1_000_000, 2)] },
      { rows: 4_000_000, steps: [step(4_000_000, 8)] },
    ]);
    expect(out.split('\n')[2]).toMatch(/^load\s+2\.00\s+8\.00\s+1\.00$/);
    expect(scaling([{ rows: 1, steps: [] }])).toBe('');
  });
});

describe('bench goals', () => {
  it('checks the load, RSS, full, +1 day, late day and --force goals against the medians', () => {
    const s = (median: number, peakRssMb: number | null = null) => ({ n: 3, median, min: median, max: median, peakRssMb });
    const got = goals(
      [
        { contender: 'npm run load', rows: 1, summary: s(1.6, 140) },
        { contender: 'transform --full', rows: 1, summary: s(12, 60) },
        { contender: 'transform (incremental, +1 day)', rows: 1, summary: s(0.1) },
        { contender: 'transform (late old day)', rows: 1, summary: s(0.25) },
        { contender: 'transform (--force of a day)', rows: 1, summary: s(0.4) },
      ],
      2,
    );
    expect(got.map((g) => g.met)).toEqual([true, true, false, true, true, false, null]);
    expect(got.map((g) => g.value)).toEqual(['0.80 ×', '140 MB', '6.00 ×', '0.8 %', '2.50 ×', '4.00 ×', '60 MB']);
    expect(goals([], null).every((g) => g.met === null)).toBe(true);
    // pair ratios win over ratios of medians
    const paired = goals([{ contender: 'npm run load', rows: 1, summary: s(1.6, 140), pairRatio: 0.9 }], 2, { incrementalOfFull: 0.03 });
    expect(paired[0]).toMatchObject({ value: '0.90 ×', met: false });
    expect(paired[3]).toMatchObject({ value: '3.0 %', met: false });
  });

  it('takes the growth exponent of the +1 day transform from the smallest to the largest size', () => {
    const at = (rows: number, median: number) => ({ rows, steps: [{ contender: 'transform (incremental, +1 day)', rows: 3000, summary: { n: 1, median, min: median, max: median, peakRssMb: null } }] });
    expect(incrementalExponent([at(1_000_000, 1)])).toBeNull();
    expect(incrementalExponent([at(1_000_000, 1), at(4_000_000, 2)])).toMatchObject({ value: '0.50', met: false });
    expect(incrementalExponent([at(1_000_000, 1), at(4_000_000, 1.2)])).toMatchObject({ value: '0.13', met: true });
  });

  it('pairs each run with psql\'s run of the same repetition', () => {
    const psql = [{ seconds: 2, peakRssMb: null, rep: 0 }, { seconds: 8, peakRssMb: null, rep: 1 }, { seconds: 4, peakRssMb: null, rep: 2 }];
    const load = [{ seconds: 1, peakRssMb: null, rep: 0 }, { seconds: 4, peakRssMb: null, rep: 1 }, { seconds: 3, peakRssMb: null, rep: 2 }];
    expect(pairRatio(load, psql)).toBe(0.5); // ratios 0.5, 0.5, 0.75
    expect(pairRatio(load, [])).toBeNull();
  });
});

describe('bench stages of a full rebuild', () => {
  it('adds up the files of a run by stage, and prints the median of each with its share', () => {
    const files = [
      { file: 'sql/001_pg_temp.transform_staged.sql', ms: 100 },
      { file: 'sql/010_pg_temp.transform_parsed.sql', ms: 300 },
      { file: 'sql/015_core.transactions.sql', ms: 500 },
      { file: 'sql/017_meta.transform_loads.sql', ms: 50 },
      { file: 'sql/022_pg_temp.transform_product_invoices.sql', ms: 200 },
      { file: 'sql/031_core.products.sql', ms: 150 },
      { file: 'sql/100_features.customer_features.sql', ms: 20 },
      { file: 'sql/300_features.training_set.sql', ms: 5 },
    ];
    const one = stageTimes(files);
    expect(one).toEqual({
      'parse 001-010': 400,
      'quarantine, dedup, core and its index builds 011-016': 500,
      'accounting 017': 50,
      'summaries 020-025': 200,
      'entities 030-032': 150,
      'publish 100+': 25,
    });
    const other = stageTimes(files.map((f) => ({ ...f, ms: f.ms * 3 })));
    const third = stageTimes(files.map((f) => ({ ...f, ms: f.ms * 2 })));
    // the median of 1×, 2× and 3× is 2×; shares of the sum of medians (2,650 ms)
    expect(stageLine([one, other, third])).toBe(
      'parse 001-010 0.80 s (30 %), quarantine, dedup, core and its index builds 011-016 1.00 s (38 %), accounting 017 0.10 s (4 %), ' +
        'summaries 020-025 0.40 s (15 %), entities 030-032 0.30 s (11 %), publish 100+ 0.05 s (2 %)',
    );
    expect(stageLine([])).toBe('');
  });
});

describe('bench measurement', () => {
  it('reports exit code, output and the peak memory of the command', async () => {
    const script = 'const b = Buffer.alloc(80 * 1024 * 1024, 1); setTimeout(() => { console.log(b[5]); process.exit(3); }, 300);';
    const m = await measure(process.execPath, ['-e', script], process.env);
    expect(m.exitCode).toBe(3);
    expect(m.stdout.trim()).toBe('1');
    expect(m.peakRssMb).toBeGreaterThan(80);
    expect(m.seconds).toBeGreaterThan(0);
  });
});
