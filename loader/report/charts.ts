/**
 * The report's charts of the business as vega-lite specifications (pure): data in, spec out (the
 * operational ones, data quality and runs: ops-charts.ts). Every chart draws one
 * mark (a bar or a cell) per data row, so a drawn chart has at least as many marks as rows.
 */
import type { TopLevelSpec } from 'vega-lite';

import { segmentTotals } from './segments.js';
import type { ReportData } from './types.js';

export interface Chart {
  id: string;
  /** data rows drawn (each is at least one mark) */
  rows: number;
  spec: TopLevelSpec;
}

export const WIDTH = 860;
export const base = { background: 'white', config: { view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 }, legend: { labelLimit: 320 } } } as const;

export function dailyChart(d: ReportData['daily']): Chart {
  const money = d.flatMap((r) => [
    { day: r.day, measure: 'gross revenue', value: r.grossRevenue },
    { day: r.day, measure: 'returns (negative)', value: -r.returnsValue },
  ]);
  const x = { field: 'day', type: 'temporal', timeUnit: 'yearmonthdate', title: null, scale: { padding: 6 }, axis: { format: '%b %Y', labelOverlap: true } } as const;
  return {
    id: 'daily',
    rows: money.length + d.length,
    spec: {
      ...base,
      vconcat: [
        {
          width: WIDTH, height: 220, title: 'Gross revenue and returns per day', data: { values: money },
          mark: { type: 'bar' },
          encoding: { x, y: { field: 'value', type: 'quantitative', title: 'amount' }, color: { field: 'measure', type: 'nominal', title: null, scale: { range: ['#4c78a8', '#e45756'] }, legend: { orient: 'top' } } },
        },
        {
          width: WIDTH, height: 140, title: 'Orders per day (distinct sale invoices)', data: { values: d },
          mark: { type: 'bar', color: '#54a24b' },
          encoding: { x, y: { field: 'orders', type: 'quantitative', title: 'orders' } },
        },
      ],
    },
  };
}

export function cohortChart(d: ReportData['cohorts']): Chart {
  const later = d.filter((c) => c.monthNumber > 0).map((c) => c.retention);
  const top = later.length ? Math.max(...later) : 1;
  const values = d.map((c) => ({ ...c, cohort: c.cohortMonth.slice(0, 7) }));
  return {
    id: 'cohorts',
    rows: d.length,
    spec: {
      ...base,
      width: Math.min(WIDTH, 40 * (Math.max(0, ...d.map((c) => c.monthNumber)) + 1)),
      height: { step: 18 },
      title: 'Share of each cohort buying again, by months since the first purchase',
      data: { values },
      encoding: {
        x: { field: 'monthNumber', type: 'ordinal', title: 'month_number (months since the first purchase)', axis: { labelAngle: 0 } },
        y: { field: 'cohort', type: 'ordinal', title: 'cohort_month' },
      },
      layer: [
        { mark: { type: 'rect' }, encoding: { color: { field: 'retention', type: 'quantitative', title: 'retention', scale: { scheme: 'blues', domain: [0, top], clamp: true }, legend: { format: '.0%' } } } },
        ...(values.length <= 400
          ? [{ mark: { type: 'text', fontSize: 9 }, encoding: { text: { field: 'retention', type: 'quantitative', format: '.0%' }, color: { condition: { test: `datum.retention > ${top / 2}`, value: 'white' }, value: 'black' } } } as const]
          : []),
      ],
    } as TopLevelSpec,
  };
}

export function rfmChart(d: ReportData['rfmCells']): Chart {
  const segments = segmentTotals(d);
  return {
    id: 'rfm',
    rows: d.length + segments.length,
    spec: {
      ...base,
      hconcat: [
        {
          width: 300, height: 300, title: 'Customers per (r_score, f_score)', data: { values: d },
          encoding: {
            x: { field: 'fScore', type: 'ordinal', title: 'f_score (5 = most invoices)', axis: { labelAngle: 0 } },
            y: { field: 'rScore', type: 'ordinal', title: 'r_score (5 = most recent)', sort: 'descending' },
          },
          layer: [
            { mark: 'rect', encoding: { color: { field: 'customers', type: 'quantitative', scale: { scheme: 'greens' }, title: 'customers' } } },
            { mark: { type: 'text', fontSize: 11 }, encoding: { text: { field: 'customers', type: 'quantitative', format: ',' }, color: { condition: { test: `datum.customers > ${Math.max(0, ...d.map((c) => c.customers)) / 2}`, value: 'white' }, value: 'black' } } },
          ],
        },
        {
          width: 380, height: 300, title: 'Monetary by segment (Σ monetary of its customers)', data: { values: segments },
          encoding: {
            y: { field: 'segment', type: 'nominal', sort: null, title: null },
            x: { field: 'monetary', type: 'quantitative', title: 'monetary', axis: { format: '~s' } },
          },
          layer: [
            { mark: { type: 'bar', color: '#72b7b2' } },
            { mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 }, encoding: { text: { field: 'customers', type: 'quantitative', format: ',' } } },
          ],
        },
      ],
    } as TopLevelSpec,
  };
}

export function productsChart(d: ReportData['topProducts']): Chart {
  const values = d.map((p) => ({ ...p, label: `${p.stockCode} ${p.description}`.slice(0, 48) }));
  return {
    id: 'products',
    rows: values.length,
    spec: {
      ...base,
      width: 560, height: { step: 20 }, title: `Top ${values.length} products by revenue`, data: { values },
      mark: { type: 'bar', color: '#4c78a8' },
      encoding: {
        y: { field: 'label', type: 'nominal', sort: '-x', title: null },
        x: { field: 'revenue', type: 'quantitative', title: 'revenue', axis: { format: '~s' } },
      },
    },
  };
}
