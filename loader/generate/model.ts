/**
 * Sampling tables built once from the calibration: alias tables for every empirical distribution,
 * CSV-encoded descriptions and price strings ready to write, and the customer population model.
 */
import { hashUnit, AliasTable, type Rng } from './random.js';
import type { Calibration, FeeMix, Hist } from './calibration.js';

/** RFC 4180 field: quoted only when it holds a comma, a quote or a line break */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** a distribution over strings */
export class Choice {
  readonly values: string[];
  private readonly table: AliasTable;
  constructor(hist: Hist, encode: (v: string) => string = (v) => v) {
    this.values = hist.map(([v]) => encode(v));
    this.table = new AliasTable(hist.map(([, n]) => n));
  }
  pick(rng: Rng): string {
    return this.values[this.table.sample(rng)]!;
  }
}

/** small per-item price lists, flattened: item i owns entries start[i] .. start[i+1] */
class PriceLists {
  private readonly start: Int32Array;
  private readonly cum: Float64Array;
  private readonly price: string[] = [];
  constructor(lists: Hist[]) {
    this.start = new Int32Array(lists.length + 1);
    const cum: number[] = [];
    lists.forEach((list, i) => {
      this.start[i] = this.price.length;
      const total = list.reduce((s, [, n]) => s + n, 0);
      let acc = 0;
      for (const [p, n] of list) (acc += n), cum.push(acc / total), this.price.push(p);
    });
    this.start[lists.length] = this.price.length;
    this.cum = Float64Array.from(cum);
  }
  pick(i: number, rng: Rng): string {
    const u = rng.next();
    const end = this.start[i + 1]! - 1;
    let j = this.start[i]!;
    while (j < end && this.cum[j]! <= u) j++;
    return this.price[j]!;
  }
}

export interface FeeTable {
  rate: number;
  table: AliasTable;
  codes: string[];
  descriptions: string[];
  prices: PriceLists;
  quantities: PriceLists;
}

function feeTable(mix: FeeMix): FeeTable {
  return {
    rate: mix.rate,
    table: new AliasTable(mix.codes.map((c) => c[2])),
    codes: mix.codes.map((c) => csvField(c[0])),
    descriptions: mix.codes.map((c) => csvField(c[1])),
    prices: new PriceLists(mix.codes.map((c) => c[3])),
    quantities: new PriceLists(mix.codes.map((c) => c[4])),
  };
}

/** customers are generations of the real population: generation g, slot s has id realId + g·6000 */
const ID_STRIDE = 6000;

export class Model {
  readonly cal: Calibration;
  readonly productCount: number;
  readonly productCodes: string[];
  readonly productDescriptions: string[];
  readonly products: AliasTable;
  readonly customerPrices: PriceLists;
  readonly guestPrices: PriceLists;
  readonly invoiceKinds: AliasTable;
  readonly kindNames = ['customerSale', 'guestSale', 'cancellation', 'adjustment', 'badDebt'] as const;
  readonly lines: Record<'customerSale' | 'guestSale' | 'cancellation' | 'adjustment', AliasTable>;
  readonly lineValues: Record<'customerSale' | 'guestSale' | 'cancellation' | 'adjustment', Int32Array>;
  readonly quantities: Record<'customer' | 'guest' | 'cancellation' | 'adjustment', Choice>;
  readonly fees: Record<'customerSale' | 'guestSale' | 'cancellation', FeeTable>;
  readonly hours: AliasTable;
  readonly countries: string[];
  readonly guestCountries: Choice;
  readonly adjustmentDescriptions: Choice;
  readonly badDebtPrices: Choice;
  private readonly customerTable: AliasTable;
  private readonly customerIds: Int32Array;
  private readonly customerCountry: Int32Array;
  /** invoices per customer generation: one real year */
  private readonly generationInvoices: number;

  constructor(cal: Calibration, private readonly seed: number) {
    this.cal = cal;
    this.productCount = cal.products.length;
    this.productCodes = cal.products.map((p) => csvField(p[0]));
    this.productDescriptions = cal.products.map((p) => csvField(p[1]));
    this.products = new AliasTable(cal.products.map((p) => p[2]));
    this.customerPrices = new PriceLists(cal.products.map((p) => p[3]));
    this.guestPrices = new PriceLists(cal.products.map((p) => p[4]));
    this.invoiceKinds = new AliasTable(this.kindNames.map((k) => cal.invoiceKinds[k]));
    const lineTable = (h: Hist) => new AliasTable(h.map(([, n]) => n));
    const lineValues = (h: Hist) => Int32Array.from(h.map(([v]) => Number(v)));
    this.lines = { customerSale: lineTable(cal.lines.customerSale), guestSale: lineTable(cal.lines.guestSale), cancellation: lineTable(cal.lines.cancellation), adjustment: lineTable(cal.lines.adjustment) };
    this.lineValues = { customerSale: lineValues(cal.lines.customerSale), guestSale: lineValues(cal.lines.guestSale), cancellation: lineValues(cal.lines.cancellation), adjustment: lineValues(cal.lines.adjustment) };
    const q = cal.quantities;
    this.quantities = { customer: new Choice(q.customer), guest: new Choice(q.guest), cancellation: new Choice(q.cancellation), adjustment: new Choice(q.adjustment) };
    this.fees = { customerSale: feeTable(cal.fees.customerSale), guestSale: feeTable(cal.fees.guestSale), cancellation: feeTable(cal.fees.cancellation) };
    this.hours = new AliasTable(cal.hours);
    this.countries = cal.countries.map(csvField);
    this.guestCountries = new Choice(cal.guestCountries.map(([c, n]) => [String(c), n]), (c) => this.countries[Number(c)]!);
    this.adjustmentDescriptions = new Choice(cal.adjustmentDescriptions, csvField);
    this.badDebtPrices = new Choice(cal.badDebtPrices);
    this.customerTable = new AliasTable(cal.customers.map((c) => c[2]));
    this.customerIds = Int32Array.from(cal.customers.map((c) => c[0]));
    this.customerCountry = Int32Array.from(cal.customers.map((c) => c[1]));
    this.generationInvoices = Math.max(1, cal.real.invoices);
  }

  /**
   * A customer for the invoice with this serial: heavy-tailed activity (the real customers'
   * invoice counts), a population that grows by one real generation per real year of invoices,
   * whose members arrive one by one. Returns the slot; id and country via customerId/customerCountryOf.
   */
  pickCustomer(rng: Rng, serial: number): number {
    const epoch = serial / this.generationInvoices;
    const newest = Math.floor(epoch);
    const arrived = epoch - newest;
    for (let tries = 0; ; tries++) {
      const slot = this.customerTable.sample(rng);
      const g = rng.int(newest + 1);
      if (g < newest || g === 0 || hashUnit(this.seed, g, slot) <= arrived) return g * this.customerIds.length + slot;
      if (tries >= 8) return (g - 1) * this.customerIds.length + slot;
    }
  }

  customerId(customer: number): number {
    const n = this.customerIds.length;
    return this.customerIds[customer % n]! + Math.floor(customer / n) * ID_STRIDE;
  }

  customerCountryOf(customer: number): string {
    return this.countries[this.customerCountry[customer % this.customerIds.length]!]!;
  }

  productPrice(product: number, guest: boolean, rng: Rng): string {
    return (guest ? this.guestPrices : this.customerPrices).pick(product, rng);
  }

  lineCount(kind: keyof Model['lines'], rng: Rng): number {
    return this.lineValues[kind][this.lines[kind].sample(rng)]!;
  }

  fee(table: FeeTable, rng: Rng): { code: string; description: string; price: string; quantity: string } {
    const i = table.table.sample(rng);
    return { code: table.codes[i]!, description: table.descriptions[i]!, price: table.prices.pick(i, rng), quantity: table.quantities.pick(i, rng) };
  }
}
