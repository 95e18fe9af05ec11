/** Small helpers of the calibration: fee codes, a counter, a CSV line splitter, the contract's line kinds (§3). */
import type { Hist } from './calibration.js';

export const FEE_CODES = new Set(['POST', 'DOT', 'C2', 'M', 'D', 'S', 'B', 'BANK CHARGES', 'AMAZONFEE', 'CRUK']);
export const isFeeCode = (code: string): boolean => FEE_CODES.has(code.toUpperCase()) || /^GIFT_/i.test(code);

export type Row = [inv: string, code: string, desc: string, qty: string, date: string, price: string, cust: string, country: string];

export class Counter<K> extends Map<K, number> {
  inc(key: K, by = 1): void {
    this.set(key, (this.get(key) ?? 0) + by);
  }
  top(limit = Infinity): [K, number][] {
    return [...this.entries()].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0]))).slice(0, limit);
  }
}

export const hist = (c: Counter<string>, limit = Infinity): Hist => c.top(limit);
export const round = (x: number, digits = 6): number => Number(x.toFixed(digits));
export const isAdjustmentLine = (r: Row): boolean => Number(r[3]) <= 0 || Number(r[5]) <= 0;

export function mostFrequent(c: Counter<string> | undefined): string {
  return c?.top(1)[0]?.[0] ?? '';
}

/** Split one CSV line (the bundled files hold no newlines inside fields). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') out.push(field), (field = '');
    else field += ch;
  }
  out.push(field);
  return out;
}

/** line kinds and duplicates of the real rows, per contract §3 (exact duplicates of the raw values) */
export function contractKinds(rows: Row[]): { cancellation: number; adjustment: number; fee: number; duplicates: number } {
  const seen = new Set<string>();
  const out = { cancellation: 0, adjustment: 0, fee: 0, duplicates: 0 };
  for (const r of rows) {
    const key = r.map((v) => v.trim()).join('\u0001');
    if (seen.has(key)) {
      out.duplicates++;
      continue;
    }
    seen.add(key);
    if (/^c/i.test(r[0])) out.cancellation++;
    else if (/^a/i.test(r[0]) || isAdjustmentLine(r)) out.adjustment++;
    else if (isFeeCode(r[1])) out.fee++;
  }
  return out;
}
