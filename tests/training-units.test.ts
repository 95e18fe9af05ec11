/** The training-set pure code: arguments, cutoff ranges, value conversions for Parquet and CSV. */
import { describe, expect, it } from 'vitest';

import { cutoffRange, isoDayNumber, parseTrainingArgs } from '../loader/training/args.js';
import { COLUMNS, csvField, csvLine, epochDays, epochMicros, parquetSchema, parquetValue, unscaled } from '../loader/training/columns.js';

const col = (name: string) => COLUMNS.find((c) => c.name === name)!;

describe('training-set arguments', () => {
  it('takes repeated cutoffs, ascending, each once, and the format from the extension', () => {
    expect(parseTrainingArgs(['--cutoff', '2011-09-01', '--cutoff', '2011-03-01', '--cutoff', '2011-09-01', '--horizon-days', '90', '--out', 'x.PARQUET'])).toEqual({
      cutoffs: ['2011-03-01', '2011-09-01'], horizonDays: 90, out: 'x.PARQUET', format: 'parquet', json: false, quiet: false, help: false,
    });
    expect(parseTrainingArgs(['--cutoff', '2011-09-01', '--horizon-days', '1', '--out', 'd/x.csv', '--json']).format).toBe('csv');
  });

  it('builds a range from --from to --to inclusive, every N days, across month and leap-year ends', () => {
    expect(cutoffRange('2011-01-01', '2011-03-01', 30)).toEqual(['2011-01-01', '2011-01-31']);
    expect(cutoffRange('2012-02-27', '2012-03-01', 1)).toEqual(['2012-02-27', '2012-02-28', '2012-02-29', '2012-03-01']);
    expect(cutoffRange('2011-05-05', '2011-05-05', 7)).toEqual(['2011-05-05']);
  });

  it('checks dates on the calendar', () => {
    expect(isoDayNumber('1970-01-02')).toBe(1);
    expect(isoDayNumber('2011-02-29')).toBeUndefined();
    expect(isoDayNumber('2012-02-29')).toBe(15399);
    expect(isoDayNumber('2011-9-1')).toBeUndefined();
  });

  it('says what is wrong in one line', () => {
    const msg = (args: string[]) => {
      try {
        parseTrainingArgs(args);
        return 'no error';
      } catch (err) {
        return `${(err as { exitCode: number }).exitCode} ${(err as Error).message}`;
      }
    };
    expect(msg(['--cutoff', '2011-09-01', '--horizon-days', '1.5', '--out', 'x.csv'])).toBe('2 --horizon-days must be a whole number >= 1, got "1.5"');
    expect(msg(['--from', '2011-01-01', '--to', '2011-02-01', '--every', '0', '--horizon-days', '3', '--out', 'x.csv'])).toBe('2 --every must be a whole number >= 1, got "0"');
    expect(msg(['--cutoff', '2011-09-01', '--horizon-days', '3', '--out', 'x.json'])).toBe('2 --out must end in .parquet or .csv, got "x.json"');
    expect(msg(['--cutoff'])).toMatch(/^2 Option '--cutoff <value>' argument missing \(see --help\)$/);
    expect(msg(['extra'])).toMatch(/^2 .*positional.* \(see --help\)$/);
  });
});

describe('training-set values', () => {
  it('dates and timestamps without a time zone', () => {
    expect(epochDays('1970-01-01')).toBe(0);
    expect(epochDays('2011-09-01')).toBe(15218);
    expect(epochMicros('1970-01-01 00:00:01')).toBe(1_000_000n);
    expect(epochMicros('2011-09-01 08:26:00.5')).toBe(1_314_865_560_500_000n);
    expect(epochMicros('2011-09-01 08:26:00.000123')).toBe(1_314_865_560_000_123n);
  });

  it('decimals exactly, scaled, refusing lost digits or precision', () => {
    expect(unscaled('77183.60', 2)).toBe(7_718_360n);
    expect(unscaled('-0.05', 2)).toBe(-5n);
    expect(unscaled('12', 2)).toBe(1200n);
    expect(unscaled('0.1000', 4)).toBe(1000n);
    expect(unscaled('1.2300', 2)).toBe(123n);
    expect(unscaled('9999999999999999.99', 2)).toBe(999_999_999_999_999_999n);
    expect(() => unscaled('10000000000000000.00', 2)).toThrow(/does not fit DECIMAL\(18, 2\)/);
    expect(() => unscaled('1.234', 2)).toThrow(/more than 2 decimals/);
  });

  it('Parquet values per column kind, NULL only where allowed', () => {
    expect(parquetValue(col('frequency'), '5')).toBe(5n);
    expect(parquetValue(col('r_score'), '5')).toBe(5);
    expect(parquetValue(col('label_purchased'), 't')).toBe(true);
    expect(parquetValue(col('label_purchased'), null)).toBeNull();
    expect(parquetValue(col('monetary'), '10.50')).toBe(1050n);
    expect(() => parquetValue(col('monetary'), null)).toThrow(/monetary: NULL/);
  });

  it('a schema with the logical types', () => {
    const schema = parquetSchema();
    expect(schema[0]).toEqual({ name: 'schema', num_children: COLUMNS.length });
    expect(schema.find((e) => e.name === 'last_purchase_at')).toMatchObject({ type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' } });
    expect(schema.find((e) => e.name === 'label_monetary')).toMatchObject({ type: 'INT64', repetition_type: 'OPTIONAL', scale: 2, precision: 18 });
  });

  it('CSV fields: quoted only when needed, NULL empty, an empty string quoted', () => {
    expect(csvField(col('country'), 'Korea, Republic of')).toBe('"Korea, Republic of"');
    expect(csvField(col('country'), 'say "hi"')).toBe('"say ""hi"""');
    expect(csvField(col('country'), '')).toBe('""');
    expect(csvField(col('country'), null)).toBe('');
    expect(csvField(col('label_purchased'), 'f')).toBe('false');
    expect(csvLine(COLUMNS.map((c) => (c.name === 'country' ? 'EIRE' : c.nullable ? null : '1')))).toBe('1,1,EIRE,1,1,1,1,1,1,1,1,1,1,,1,1,1,,,,\n');
  });
});
