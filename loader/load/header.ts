/** Contract §1: header names → canonical columns (pure). */

export const CANONICAL = ['invoice_no', 'stock_code', 'description', 'quantity', 'invoice_date', 'unit_price', 'customer_id', 'country'] as const;
export type Canonical = (typeof CANONICAL)[number];

/** Accepted header names, normalized (lowercase, no spaces or underscores). */
const ALIASES: Record<string, Canonical> = {
  invoiceno: 'invoice_no',
  invoice: 'invoice_no',
  stockcode: 'stock_code',
  description: 'description',
  quantity: 'quantity',
  invoicedate: 'invoice_date',
  unitprice: 'unit_price',
  price: 'unit_price',
  customerid: 'customer_id',
  country: 'country',
};

/** The canonical column a header name or JSON key names, if any. */
export function canonicalOf(name: string): Canonical | undefined {
  const key = normalizeHeaderName(name.trim());
  return Object.hasOwn(ALIASES, key) ? ALIASES[key] : undefined;
}

/** Case-insensitive, spaces (any whitespace) and underscores ignored. */
export function normalizeHeaderName(name: string): string {
  return name.toLowerCase().replace(/[\s_]+/g, '');
}

export interface HeaderMap {
  /** number of fields every record must have (the header's) */
  fieldCount: number;
  /** per file column: its canonical column, or null for an extra column */
  columns: (Canonical | null)[];
  /** the names of the extra (ignored) columns, as written */
  extras: string[];
}

export type HeaderResult = { ok: true; map: HeaderMap } | { ok: false; reason: string };

/** Map a header record's names; an error names every missing column (and any column given twice). */
export function mapHeader(names: string[]): HeaderResult {
  const columns: (Canonical | null)[] = [];
  const seen = new Map<Canonical, string>();
  const extras: string[] = [];
  const twice: string[] = [];
  for (const name of names) {
    const canonical = ALIASES[normalizeHeaderName(name)];
    if (canonical === undefined) {
      columns.push(null);
      extras.push(name);
    } else if (seen.has(canonical)) {
      twice.push(`${canonical} (${seen.get(canonical)}, ${name})`);
      columns.push(null);
    } else {
      seen.set(canonical, name);
      columns.push(canonical);
    }
  }
  const missing = CANONICAL.filter((c) => !seen.has(c));
  const problems: string[] = [];
  if (missing.length) problems.push(`missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  if (twice.length) problems.push(`column given twice: ${twice.join('; ')}`);
  if (problems.length) return { ok: false, reason: problems.join('; ') };
  return { ok: true, map: { fieldCount: names.length, columns, extras } };
}
