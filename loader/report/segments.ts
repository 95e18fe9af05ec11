/**
 * RFM segments from the recency and frequency scores (pure). Five groups that cover the 5 × 5 grid
 * once each (documented in docs/report.md):
 *   champions    r 4-5, f 4-5   bought lately and often
 *   promising    r 4-5, f 1-3   bought lately, not often yet
 *   needs attention  r 3        neither recent nor lapsed
 *   at risk      r 1-2, f 4-5   used to buy often, not lately
 *   hibernating  r 1-2, f 1-3   bought little, long ago
 */
export const SEGMENTS = ['champions', 'promising', 'needs attention', 'at risk', 'hibernating'] as const;
export type Segment = (typeof SEGMENTS)[number];

export function segmentOf(rScore: number, fScore: number): Segment {
  if (rScore >= 4) return fScore >= 4 ? 'champions' : 'promising';
  if (rScore === 3) return 'needs attention';
  return fScore >= 4 ? 'at risk' : 'hibernating';
}

export interface SegmentTotal {
  segment: Segment;
  customers: number;
  monetary: number;
}

/** Customers and monetary summed per segment, in SEGMENTS order (segments without customers omitted). */
export function segmentTotals(cells: { rScore: number; fScore: number; customers: number; monetary: number }[]): SegmentTotal[] {
  const totals = new Map<Segment, SegmentTotal>();
  for (const c of cells) {
    const segment = segmentOf(c.rScore, c.fScore);
    const t = totals.get(segment) ?? { segment, customers: 0, monetary: 0 };
    t.customers += c.customers;
    t.monetary += c.monetary;
    totals.set(segment, t);
  }
  return SEGMENTS.flatMap((s) => (totals.has(s) ? [totals.get(s)!] : []));
}
