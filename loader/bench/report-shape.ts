/**
 * Report data shaped like a generated history of N rows (pure): the generator writes ~1,800 lines a day
 * (the bundled data's volume), so N rows span N / 1,800 days; cohorts are the months of that span; the
 * other sections have their fixed caps (20 products, 25 RFM cells, 400 loads, 30 runs). For timing the
 * chart rendering at a size the machine could not load and transform (bench --suite report, render:N).
 */
import type { ReportData } from '../report/types.js';

export function shapedData(rows: number): ReportData {
  const days = Math.max(1, Math.round(rows / 1800));
  const months = Math.max(1, Math.ceil(days / 30.4));
  const start = Date.UTC(2010, 11, 1);
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const monthIso = (m: number) => iso(Date.UTC(2010, 11 + m, 1));
  const reasons = { missing_invoice_no: 1, missing_stock_code: 1, bad_quantity: 2, bad_unit_price: 1, bad_invoice_date: 3, bad_customer_id: 1 };
  return {
    headline: { asOfDate: iso(start + days * 864e5), loads: 400, loadsPending: 0, rowsRead: rows, rowsStaged: rows, rowsRejected: 400, rowsQuarantined: 3600, rowsDuplicate: 4000, rowsClean: rows - 8000, customers: 5000, orders: days * 85, grossRevenue: '12345678.90', returnsValue: '123456.78', firstDay: iso(start), lastDay: iso(start + (days - 1) * 864e5), lastRun: { runId: 30, finishedAt: new Date(start).toISOString(), isFull: false, fullReason: null, durationMs: 2000, loadsProcessed: 1, rowsProcessed: 1800 } },
    daily: Array.from({ length: days }, (_, d) => ({ day: iso(start + d * 864e5), orders: 60 + (d % 50), grossRevenue: 20000 + (d % 97) * 300, returnsValue: (d % 7) * 150 })),
    cohorts: Array.from({ length: months }, (_, c) => Array.from({ length: months - c }, (_, m) => ({ cohortMonth: monthIso(c), monthNumber: m, cohortSize: 300, activeCustomers: m ? 60 : 300, retention: m ? 0.2 + (m % 5) / 50 : 1 }))).flat(),
    rfmCells: Array.from({ length: 25 }, (_, i) => ({ rScore: 1 + Math.floor(i / 5), fScore: 1 + (i % 5), customers: 40 + i * 7, monetary: 10000 + i * 5000 })),
    topProducts: Array.from({ length: 20 }, (_, i) => ({ stockCode: `P${1000 + i}`, description: `PRODUCT NUMBER ${i} WITH A LONG DESCRIPTION`, revenue: 200000 - i * 7000, units: 5000, orders: 900 })),
    dqLoads: Array.from({ length: 400 }, (_, i) => ({ loadId: i + 1, source: `inbox/day-${i}.csv`, startedAt: iso(start), rowsRead: 1800, rejected: 1, quarantined: 9, byReason: reasons, duplicates: 10, transformed: true })),
    worstLoads: [],
    runs: Array.from({ length: 30 }, (_, i) => ({ runId: i + 1, startedAt: iso(start), status: 'complete', isFull: i === 0, durationMs: i ? 1500 : 60000, loadsProcessed: 1, rowsProcessed: 1800 })),
    lastRunFiles: Array.from({ length: 9 }, (_, i) => ({ file: `sql/${i}00_file.sql`, action: 'refresh', durationMs: 100 * i, rows: 10 })),
    dictionary: [],
  };
}
