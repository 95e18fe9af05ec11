/**
 * The calibration: compact statistics of the bundled Online Retail data that the generator samples
 * from. Computed by calibrate.ts (`npm run generate -- --calibrate` rewrites calibration.json) and
 * committed, so generating never re-reads the 305 bundled files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { UserError } from '../errors.js';
import { projectRoot } from '../paths.js';

/** an empirical distribution: [value as written in the source, number of occurrences] */
export type Hist = [value: string, count: number][];

/** a product of the real catalogue: stock code, its most frequent description, its sale lines, price levels */
export type Product = [code: string, description: string, lines: number, customerPrices: Hist, guestPrices: Hist];

/** a fee/service code: code, description, lines, price levels, quantities */
export type FeeCode = [code: string, description: string, lines: number, prices: Hist, quantities: Hist];

export interface FeeMix {
  /** fee lines per invoice (sale invoices) or per line (cancellations) */
  rate: number;
  codes: FeeCode[];
}

export type InvoiceKind = 'customerSale' | 'guestSale' | 'cancellation' | 'adjustment' | 'badDebt';

export interface Calibration {
  version: 1;
  source: { files: number; rows: number; firstDate: string; lastDate: string; tradingDays: number };
  /** shares of the real data, as the contract classifies lines (for documentation and tests) */
  real: {
    guestLineShare: number;
    cancellationLineShare: number;
    feeLineShare: number;
    adjustmentLineShare: number;
    duplicateShare: number;
    customers: number;
    stockCodes: number;
    invoices: number;
  };
  invoicesPerTradingDay: number;
  /** relative invoice rate per weekday, 0 = Sunday (mean 1 over trading days) */
  weekdays: number[];
  /** relative invoice rate per month, 0 = January (mean 1) */
  months: number[];
  /** invoice start hour weights, 0..23 */
  hours: number[];
  invoiceKinds: Record<InvoiceKind, number>;
  /** product lines per invoice, by invoice kind */
  lines: Record<'customerSale' | 'guestSale' | 'cancellation' | 'adjustment', Hist>;
  quantities: Record<'customer' | 'guest' | 'cancellation' | 'adjustment', Hist>;
  /** an exact copy follows a line with this probability */
  duplicateRate: number;
  fees: Record<'customerSale' | 'guestSale' | 'cancellation', FeeMix>;
  products: Product[];
  countries: string[];
  /** real customers: id, index into countries, invoices */
  customers: [id: number, country: number, invoices: number][];
  /** countries of guest invoices: [index into countries, invoices] */
  guestCountries: [country: number, invoices: number][];
  cancellationGuestShare: number;
  adjustmentDescriptions: Hist;
  badDebtPrices: Hist;
}

export const calibrationPath = join(projectRoot, 'loader', 'generate', 'calibration.json');

export function loadCalibration(path = calibrationPath): Calibration {
  let parsed: Calibration;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as Calibration;
  } catch (err) {
    throw new UserError(`cannot read the calibration ${path}: ${(err as Error).message}; run npm run generate -- --calibrate`, 1);
  }
  if (parsed.version !== 1 || !Array.isArray(parsed.products) || parsed.products.length === 0) {
    throw new UserError(`${path} is not a version 1 calibration; run npm run generate -- --calibrate`, 1);
  }
  return parsed;
}
