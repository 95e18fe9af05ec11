/**
 * One invoice's lines, drawn from the model: its kind (customer or guest sale, cancellation, stock
 * adjustment, bad debt), customer, country, number of lines, products (never twice on one invoice,
 * so no two lines are equal by accident), quantities, prices and an optional fee line. Each line goes
 * to `emit` with its contract line kind (sale lines always have quantity > 0 and price > 0).
 */
import { FIRST_INVOICE_NO } from './calendar.js';
import type { LineKind } from './manifest.js';
import type { Model } from './model.js';
import { Rng } from './random.js';

export type Emit = (inv: string, code: string, desc: string, qty: string, date: string, price: string, cust: string, country: string, kind: LineKind) => void;

export class InvoiceDrawer {
  private rng = new Rng(0);
  private readonly used: Int32Array;
  private readonly usedFee = new Int32Array(256);
  private stamp = 0;

  constructor(private readonly model: Model) {
    this.used = new Int32Array(model.productCount);
  }

  /** the lines of the invoice with this serial, at this date, handed to emit */
  draw(rng: Rng, serial: number, date: string, emit: Emit): void {
    this.rng = rng;
    const m = this.model;
    const kind = m.kindNames[m.invoiceKinds.sample(rng)]!;
    const no = String(FIRST_INVOICE_NO + serial);
    this.stamp++;
    if (kind === 'customerSale' || kind === 'guestSale') {
      const guest = kind === 'guestSale';
      const customer = guest ? 0 : m.pickCustomer(rng, serial);
      const cust = guest ? '' : `${m.customerId(customer)}.0`;
      const country = guest ? m.guestCountries.pick(rng) : m.customerCountryOf(customer);
      const qty = guest ? m.quantities.guest : m.quantities.customer;
      const n = m.lineCount(kind, rng);
      for (let j = 0; j < n; j++) {
        const p = this.product();
        emit(no, m.productCodes[p]!, m.productDescriptions[p]!, qty.pick(rng), date, m.productPrice(p, guest, rng), cust, country, 'sale');
      }
      if (rng.chance(m.fees[kind].rate)) {
        const f = m.fee(m.fees[kind], rng);
        emit(no, f.code, f.description, f.quantity, date, f.price, cust, country, 'fee');
      }
    } else if (kind === 'cancellation') {
      const guest = rng.chance(m.cal.cancellationGuestShare);
      const customer = guest ? 0 : m.pickCustomer(rng, serial);
      const cust = guest ? '' : `${m.customerId(customer)}.0`;
      const country = guest ? m.guestCountries.pick(rng) : m.customerCountryOf(customer);
      const n = m.lineCount('cancellation', rng);
      const fees = m.fees.cancellation;
      for (let j = 0; j < n; j++) {
        if (rng.chance(fees.rate)) {
          const f = m.fee(fees, rng);
          const code = fees.codes.indexOf(f.code);
          if (this.usedFee[code] !== this.stamp) {
            this.usedFee[code] = this.stamp;
            emit(`C${no}`, f.code, f.description, f.quantity, date, f.price, cust, country, 'cancellation');
            continue;
          }
        }
        const p = this.product();
        emit(`C${no}`, m.productCodes[p]!, m.productDescriptions[p]!, m.quantities.cancellation.pick(rng), date, m.productPrice(p, false, rng), cust, country, 'cancellation');
      }
    } else if (kind === 'adjustment') {
      const n = m.lineCount('adjustment', rng);
      const country = m.guestCountries.pick(rng);
      for (let j = 0; j < n; j++) {
        const p = this.product();
        emit(no, m.productCodes[p]!, m.adjustmentDescriptions.pick(rng), m.quantities.adjustment.pick(rng), date, '0.0', '', country, 'adjustment');
      }
    } else {
      emit(`A${no}`, 'B', 'Adjust bad debt', '1', date, m.badDebtPrices.pick(rng), '', 'United Kingdom', 'adjustment');
    }
  }

  /** a product not yet on this invoice (so no two lines of an invoice are equal by accident) */
  private product(): number {
    const m = this.model;
    let p = m.products.sample(this.rng);
    for (let tries = 0; this.used[p] === this.stamp; tries++) {
      p = tries < 32 ? m.products.sample(this.rng) : (p + 1) % m.productCount;
    }
    this.used[p] = this.stamp;
    return p;
  }
}
