/**
 * Defects and awkward-but-valid variants for `--dirty RATE`. Each turns one clean record (its eight
 * CSV-ready fields) into the text (or, for invalid UTF-8, the bytes) of one record that the
 * contract sends to exactly one place: a loader reject reason, a quarantine reason, or a clean row.
 */
export const REJECT_REASONS = ['field_count', 'unterminated_quote', 'invalid_utf8', 'nul_byte', 'record_too_large'] as const;
export const QUARANTINE_REASONS = ['missing_invoice_no', 'missing_stock_code', 'bad_quantity', 'bad_unit_price', 'bad_invoice_date', 'bad_customer_id'] as const;
/** clean records written differently: padded with spaces, a quoted line break and quotes, M/D/YYYY H:MM dates, ids without ".0" */
export const CLEAN_VARIANTS = ['padded', 'quoted_newline', 'us_date', 'plain_customer_id'] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];
export type CleanVariant = (typeof CLEAN_VARIANTS)[number];
export type Defect = RejectReason | QuarantineReason | CleanVariant;

/** drawn at RATE per record; unterminated_quote (the last record) and record_too_large (one) are placed, not drawn */
export const DRAWN: readonly Defect[] = ['field_count', 'invalid_utf8', 'nul_byte', ...QUARANTINE_REASONS, ...CLEAN_VARIANTS];

export const isReject = (d: Defect): d is RejectReason => (REJECT_REASONS as readonly string[]).includes(d);
export const isQuarantine = (d: Defect): d is QuarantineReason => (QUARANTINE_REASONS as readonly string[]).includes(d);

/** the eight fields of a record, already CSV-encoded */
export type Fields = [inv: string, code: string, desc: string, qty: string, date: string, price: string, cust: string, country: string];

const BAD_QUANTITY = ['1.5', 'x3', '3000000000', '12 pcs'];
const BAD_PRICE = ['"2,55"', 'abc', '1.2.3', '£2.55'];
const BAD_DATE = ['2011-13-01 10:00:00', '2011-02-30 10:00:00', '31/12/2011 10:00', 'not a date'];
const BAD_CUSTOMER = ['17850.5', 'C17850', '-17850', 'n/a'];
export const TOO_LARGE_BYTES = 1024 * 1024 + 4096;

const line = (f: string[]): string => f.join(',') + '\n';

/** unquote a CSV-encoded field (for descriptions we modify) */
function raw(field: string): string {
  return field.startsWith('"') ? field.slice(1, -1).replace(/""/g, '"') : field;
}

/** 'YYYY-MM-DD HH:MM:SS' → 'M/D/YYYY H:MM' (the original UCI export's format) */
function usDate(iso: string): string {
  return `${Number(iso.slice(5, 7))}/${Number(iso.slice(8, 10))}/${iso.slice(0, 4)} ${Number(iso.slice(11, 13))}:${iso.slice(14, 16)}`;
}

/** The record for `defect`; `variant` (any integer) picks among the ways of writing it. */
export function renderDefect(defect: Defect, f: Fields, variant: number): string | Buffer {
  const v = variant & 3;
  const g = [...f] as Fields;
  switch (defect) {
    case 'field_count':
      return v & 1 ? line(g.slice(0, 7)) : line([...g, 'EXTRA']);
    case 'unterminated_quote':
      g[2] = `"${raw(f[2]).replace(/"/g, '')}`; // the quote never closes: the rest of the file is inside it
      return line(g);
    case 'invalid_utf8': {
      const [head, tail] = [g.slice(0, 2).join(',') + ',', ',' + g.slice(3).join(',') + '\n'];
      const bad = v & 1 ? [0xff, 0xfe] : [0xc3, 0x28];
      return Buffer.concat([Buffer.from(head), Buffer.from('CAF'), Buffer.from(bad), Buffer.from(' MUG'), Buffer.from(tail)]);
    }
    case 'nul_byte':
      g[2] = csvField(`${raw(f[2]).slice(0, 6)}\u0000${raw(f[2]).slice(6)}`);
      return line(g);
    case 'record_too_large':
      g[2] = 'X'.repeat(TOO_LARGE_BYTES);
      return line(g);
    case 'missing_invoice_no':
      g[0] = v & 1 ? '   ' : '';
      return line(g);
    case 'missing_stock_code':
      g[1] = v & 1 ? ' ' : '';
      return line(g);
    case 'bad_quantity':
      g[3] = BAD_QUANTITY[v]!;
      return line(g);
    case 'bad_unit_price':
      g[5] = BAD_PRICE[v]!;
      return line(g);
    case 'bad_invoice_date':
      g[4] = BAD_DATE[v]!;
      return line(g);
    case 'bad_customer_id':
      g[6] = BAD_CUSTOMER[v]!;
      return line(g);
    case 'padded':
      return line(g.map((x, i) => (i === 2 || x.startsWith('"') ? x : ` ${x}  `)));
    case 'quoted_newline':
      g[2] = csvField(`${raw(f[2]).trim()}\n(see "note")`);
      return line(g);
    case 'us_date':
      g[4] = usDate(f[4]);
      return line(g);
    case 'plain_customer_id':
      g[6] = f[6].replace(/\.0$/, '');
      return line(g);
  }
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** physical lines a record occupies (a quoted line break adds one) */
export function physicalLines(record: string | Buffer): number {
  if (typeof record !== 'string') return 1;
  let n = 0;
  for (let i = record.indexOf('\n'); i !== -1; i = record.indexOf('\n', i + 1)) n++;
  return n;
}
