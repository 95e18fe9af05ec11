/**
 * The columns of features.training_set (pure): their order, their Parquet schema, and how a value read
 * from PostgreSQL as text becomes a Parquet value or a CSV field. Rows are read with every column as
 * PostgreSQL's text output, so nothing goes through a float or the local time zone.
 */
import type { SchemaElement } from 'hyparquet';

export type Kind = 'date' | 'timestamp' | 'int32' | 'int64' | 'boolean' | 'text' | 'money' | 'rate';

export interface Column {
  name: string;
  kind: Kind;
  /** NULL possible (country, return_rate, the labels) */
  nullable: boolean;
}

const c = (name: string, kind: Kind, nullable = false): Column => ({ name, kind, nullable });

/** In the function's order: cutoff_date, the customer_features columns, the labels. */
export const COLUMNS: readonly Column[] = [
  c('cutoff_date', 'date'),
  c('customer_id', 'int32'),
  c('country', 'text', true),
  c('first_purchase_at', 'timestamp'),
  c('last_purchase_at', 'timestamp'),
  c('recency_days', 'int32'),
  c('tenure_days', 'int32'),
  c('frequency', 'int64'),
  c('monetary', 'money'),
  c('avg_order_value', 'money'),
  c('units', 'int64'),
  c('distinct_products', 'int64'),
  c('returns_value', 'money'),
  c('return_rate', 'rate', true),
  c('r_score', 'int32'),
  c('f_score', 'int32'),
  c('m_score', 'int32'),
  c('label_purchased', 'boolean', true),
  c('label_frequency', 'int64', true),
  c('label_monetary', 'money', true),
  c('label_returns_value', 'money', true),
];

/** Money: DECIMAL(18, 2); return_rate: DECIMAL(18, 4). Both stored as INT64 (unscaled). */
export const DECIMAL_PRECISION = 18;
const SCALE: Partial<Record<Kind, number>> = { money: 2, rate: 4 };

function element(col: Column): SchemaElement {
  const base = { name: col.name, repetition_type: col.nullable ? 'OPTIONAL' : 'REQUIRED' } as const;
  switch (col.kind) {
    case 'date':
      return { ...base, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } };
    case 'timestamp': // without time zone, as in core: isAdjustedToUTC = false (no converted type, which would mean UTC)
      return { ...base, type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' } };
    case 'int32':
      return { ...base, type: 'INT32' };
    case 'int64':
      return { ...base, type: 'INT64' };
    case 'boolean':
      return { ...base, type: 'BOOLEAN' };
    case 'text':
      return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
    case 'money':
    case 'rate': {
      const scale = SCALE[col.kind]!;
      return { ...base, type: 'INT64', converted_type: 'DECIMAL', scale, precision: DECIMAL_PRECISION, logical_type: { type: 'DECIMAL', scale, precision: DECIMAL_PRECISION } };
    }
  }
}

export function parquetSchema(columns: readonly Column[] = COLUMNS): SchemaElement[] {
  return [{ name: 'schema', num_children: columns.length }, ...columns.map(element)];
}

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;
const LIMIT = 10n ** BigInt(DECIMAL_PRECISION);

function bad(col: Column, text: string): Error {
  return new Error(`${col.name}: cannot write ${JSON.stringify(text)} as ${col.kind}`);
}

/** Days since 1970-01-01 of a PostgreSQL date text (YYYY-MM-DD). */
export function epochDays(text: string): number {
  const m = DATE.exec(text);
  if (!m) throw new Error(`not a date: ${JSON.stringify(text)}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY_MS;
}

/** Microseconds since 1970-01-01 00:00 of a PostgreSQL timestamp text, read as wall-clock time (no zone). */
export function epochMicros(text: string): bigint {
  const m = TIMESTAMP.exec(text);
  if (!m) throw new Error(`not a timestamp: ${JSON.stringify(text)}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return BigInt(ms) * 1000n + BigInt((m[7] ?? '').padEnd(6, '0'));
}

/** The unscaled integer of a decimal text at `scale` digits; throws if it needs more digits or precision. */
export function unscaled(text: string, scale: number): bigint {
  const m = DECIMAL.exec(text);
  if (!m) throw new Error(`not a decimal: ${JSON.stringify(text)}`);
  const frac = m[3] ?? '';
  if (frac.length > scale && /[^0]/.test(frac.slice(scale))) throw new Error(`${text} has more than ${scale} decimals`);
  const value = BigInt(m[2]! + frac.slice(0, scale).padEnd(scale, '0')) * (m[1] ? -1n : 1n);
  if (value >= LIMIT || value <= -LIMIT) throw new Error(`${text} does not fit DECIMAL(${DECIMAL_PRECISION}, ${scale})`);
  return value;
}

type Convert = (text: string) => unknown;

function converter(col: Column): Convert {
  const check = <T>(fn: (text: string) => T) => (text: string): T => {
    try {
      return fn(text);
    } catch (err) {
      throw new Error(`${col.name}: ${(err as Error).message}`);
    }
  };
  switch (col.kind) {
    case 'date': {
      const seen = new Map<string, number>(); // few distinct dates (cutoff_date: one per cutoff)
      return check((text) => {
        let days = seen.get(text);
        if (days === undefined) seen.set(text, (days = epochDays(text)));
        return days;
      });
    }
    case 'timestamp':
      return check(epochMicros);
    case 'int32':
      return (text) => Number(text);
    case 'int64':
      return check((text) => BigInt(text));
    case 'boolean':
      return (text) => {
        if (text !== 't' && text !== 'f') throw bad(col, text);
        return text === 't';
      };
    case 'text':
      return (text) => text;
    case 'money':
    case 'rate': {
      const scale = SCALE[col.kind]!;
      return check((text) => unscaled(text, scale));
    }
  }
}

/** Per column, in COLUMNS order: a PostgreSQL text value (or NULL) to the value hyparquet-writer takes for its schema element. */
export function parquetConverters(columns: readonly Column[] = COLUMNS): ((text: string | null) => unknown)[] {
  return columns.map((col) => {
    const convert = converter(col);
    return (text) => {
      if (text !== null) return convert(text);
      if (!col.nullable) throw new Error(`${col.name}: NULL in a column that is never NULL`);
      return null;
    };
  });
}

const converters = new Map<Column, (text: string | null) => unknown>();

/** One value (see parquetConverters, the fast way for many rows). */
export function parquetValue(col: Column, text: string | null): unknown {
  let convert = converters.get(col);
  if (!convert) converters.set(col, (convert = parquetConverters([col])[0]!));
  return convert(text);
}

/** A CSV field (RFC 4180): PostgreSQL's text, booleans as true/false, NULL as an empty field. */
export function csvField(col: Column, text: string | null): string {
  if (text === null) return '';
  if (col.kind === 'boolean') return text === 't' ? 'true' : 'false';
  if (col.kind !== 'text') return text; // digits, signs, dates, times: never quoted
  return /[",\r\n]/.test(text) || text === '' ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvHeader(columns: readonly Column[] = COLUMNS): string {
  return columns.map((col) => col.name).join(',') + '\n';
}

export function csvLine(row: readonly (string | null)[], columns: readonly Column[] = COLUMNS): string {
  let line = '';
  for (let i = 0; i < columns.length; i++) line += (i ? ',' : '') + csvField(columns[i]!, row[i] ?? null);
  return line + '\n';
}
