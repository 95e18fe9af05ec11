/**
 * Computes the calibration from the records of the real dataset (pure: records in, statistics out).
 * Invoices are classified as the contract classifies lines: C… cancellations, A… bad-debt
 * adjustments, invoices whose every line has quantity ≤ 0 or price ≤ 0 stock adjustments, the rest
 * sales by a customer or a guest. Fee codes are kept apart from the product catalogue.
 */
import type { Calibration, FeeCode, FeeMix, Product } from './calibration.js';
import { Counter, contractKinds, hist, isAdjustmentLine, isFeeCode, mostFrequent, round, type Row } from './classify.js';

export { isFeeCode, splitCsvLine } from './classify.js';

export function calibrate(rows: Row[], files: number): Calibration {
  const invoices = new Map<string, Row[]>();
  for (const r of rows) {
    const list = invoices.get(r[0]);
    if (list) list.push(r);
    else invoices.set(r[0], [r]);
  }
  const kinds = { customerSale: 0, guestSale: 0, cancellation: 0, adjustment: 0, badDebt: 0 };
  const lines = { customerSale: new Counter<string>(), guestSale: new Counter<string>(), cancellation: new Counter<string>(), adjustment: new Counter<string>() };
  const qty = { customer: new Counter<string>(), guest: new Counter<string>(), cancellation: new Counter<string>(), adjustment: new Counter<string>() };
  const feeLines = { customerSale: 0, guestSale: 0, cancellation: 0 };
  const feeStats = { customerSale: new Map<string, FeeStat>(), guestSale: new Map<string, FeeStat>(), cancellation: new Map<string, FeeStat>() };
  const productLines = new Counter<string>();
  const productDesc = new Map<string, Counter<string>>();
  const productPrices = { customer: new Map<string, Counter<string>>(), guest: new Map<string, Counter<string>>() };
  const customerInvoices = new Counter<string>();
  const customerCountry = new Map<string, Counter<string>>();
  const guestCountry = new Counter<string>();
  const adjustmentDesc = new Counter<string>();
  const badDebt = new Counter<string>();
  const hours = new Array<number>(24).fill(0);
  const byWeekday = new Array<number>(7).fill(0);
  const byMonth = new Array<number>(12).fill(0);
  const days = new Set<string>();
  let cancellationGuests = 0;
  for (const r of rows) days.add(r[4].slice(0, 10));

  for (const [inv, list] of invoices) {
    const first = list[0]!;
    const when = new Date(`${first[4].slice(0, 10)}T00:00:00Z`);
    hours[Number(first[4].slice(11, 13))]! += 1;
    byWeekday[when.getUTCDay()]! += 1;
    byMonth[when.getUTCMonth()]! += 1;
    const guest = first[6] === '';
    for (const r of list) if (r[6]) {
      customerCountry.get(r[6]) ?? customerCountry.set(r[6], new Counter());
      customerCountry.get(r[6])!.inc(r[7]);
    }
    if (!guest) customerInvoices.inc(first[6]);
    if (/^a/i.test(inv)) {
      kinds.badDebt++;
      for (const r of list) badDebt.inc(r[5]);
    } else if (/^c/i.test(inv)) {
      kinds.cancellation++;
      if (guest) cancellationGuests++;
      let n = 0;
      for (const r of list) {
        if (isFeeCode(r[1])) (feeLines.cancellation++, addFee(feeStats.cancellation, r));
        else (n++, qty.cancellation.inc(r[3]));
      }
      lines.cancellation.inc(String(Math.max(n, 1)));
    } else if (list.every(isAdjustmentLine)) {
      kinds.adjustment++;
      lines.adjustment.inc(String(list.length));
      for (const r of list) (qty.adjustment.inc(r[3]), adjustmentDesc.inc(r[2]));
    } else {
      const kind = guest ? 'guestSale' : 'customerSale';
      kinds[kind]++;
      if (guest) guestCountry.inc(first[7]);
      let n = 0;
      for (const r of list) {
        if (isAdjustmentLine(r)) continue;
        if (isFeeCode(r[1])) (feeLines[kind]++, addFee(feeStats[kind], r));
        else {
          n++;
          productLines.inc(r[1]);
          (productDesc.get(r[1]) ?? productDesc.set(r[1], new Counter()).get(r[1])!).inc(r[2]);
          const prices = productPrices[guest ? 'guest' : 'customer'];
          (prices.get(r[1]) ?? prices.set(r[1], new Counter()).get(r[1])!).inc(r[5]);
          qty[guest ? 'guest' : 'customer'].inc(r[3]);
        }
      }
      lines[kind].inc(String(Math.max(n, 1)));
    }
  }

  const countries = [...new Set([...rows.map((r) => r[7])])].sort();
  const countryIndex = new Map(countries.map((c, i) => [c, i]));
  const products: Product[] = productLines.top().map(([code, n]) => {
    const customer = hist(productPrices.customer.get(code) ?? new Counter(), 4);
    const guest = hist(productPrices.guest.get(code) ?? new Counter(), 3);
    return [code, mostFrequent(productDesc.get(code)), n, customer.length ? customer : guest, guest.length ? guest : customer];
  });
  const tradingDays = [...days].sort();
  const weekdayDays = new Array<number>(7).fill(0);
  const monthDays = new Array<number>(12).fill(0);
  for (const d of tradingDays) {
    const when = new Date(`${d}T00:00:00Z`);
    weekdayDays[when.getUTCDay()]! += 1;
    monthDays[when.getUTCMonth()]! += 1;
  }
  const perDay = invoices.size / tradingDays.length;
  const feeMix = (k: keyof typeof feeStats, per: number): FeeMix => ({ rate: round(feeLines[k] / per), codes: feeCodes(feeStats[k]) });
  const kindOf = contractKinds(rows);
  return {
    version: 1,
    source: { files, rows: rows.length, firstDate: tradingDays[0]!, lastDate: tradingDays.at(-1)!, tradingDays: tradingDays.length },
    real: {
      guestLineShare: round(rows.filter((r) => r[6] === '').length / rows.length),
      cancellationLineShare: round(kindOf.cancellation / rows.length),
      feeLineShare: round(kindOf.fee / rows.length),
      adjustmentLineShare: round(kindOf.adjustment / rows.length),
      duplicateShare: round(kindOf.duplicates / rows.length),
      customers: customerCountry.size,
      stockCodes: new Set(rows.map((r) => r[1])).size,
      invoices: invoices.size,
    },
    invoicesPerTradingDay: round(perDay, 3),
    weekdays: byWeekday.map((n, i) => round(weekdayDays[i] ? n / weekdayDays[i]! / perDay : 0, 4)),
    months: byMonth.map((n, i) => round(monthDays[i] ? n / monthDays[i]! / perDay : 1, 4)),
    hours,
    invoiceKinds: kinds,
    lines: { customerSale: hist(lines.customerSale), guestSale: hist(lines.guestSale), cancellation: hist(lines.cancellation), adjustment: hist(lines.adjustment) },
    quantities: { customer: hist(qty.customer, 80), guest: hist(qty.guest, 60), cancellation: hist(qty.cancellation, 60), adjustment: hist(qty.adjustment, 40) },
    duplicateRate: round(kindOf.duplicates / (rows.length - kindOf.duplicates)),
    fees: {
      customerSale: feeMix('customerSale', kinds.customerSale),
      guestSale: feeMix('guestSale', kinds.guestSale),
      cancellation: feeMix('cancellation', [...lines.cancellation].reduce((s, [v, c]) => s + Number(v) * c, 0) + feeLines.cancellation),
    },
    products,
    countries,
    customers: customerInvoices.top().map(([id, n]) => [Number(id), countryIndex.get(mostFrequent(customerCountry.get(id)))!, n] as [number, number, number]).sort((a, b) => a[0] - b[0]),
    guestCountries: guestCountry.top().map(([c, n]) => [countryIndex.get(c)!, n] as [number, number]),
    cancellationGuestShare: round(cancellationGuests / kinds.cancellation),
    adjustmentDescriptions: hist(adjustmentDesc, 40),
    badDebtPrices: hist(badDebt),
  };
}

interface FeeStat { lines: number; desc: Counter<string>; prices: Counter<string>; qty: Counter<string> }

function addFee(stats: Map<string, FeeStat>, r: Row): void {
  let s = stats.get(r[1]);
  if (!s) stats.set(r[1], (s = { lines: 0, desc: new Counter(), prices: new Counter(), qty: new Counter() }));
  s.lines++;
  s.desc.inc(r[2]);
  s.prices.inc(r[5]);
  s.qty.inc(r[3]);
}

function feeCodes(stats: Map<string, FeeStat>): FeeCode[] {
  return [...stats.entries()]
    .sort((a, b) => b[1].lines - a[1].lines || a[0].localeCompare(b[0]))
    .map(([code, s]) => [code, mostFrequent(s.desc), s.lines, hist(s.prices, 12), hist(s.qty, 6)]);
}
