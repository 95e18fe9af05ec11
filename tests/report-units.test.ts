/** The report's pure parts: segments, money text, escaping, the worst loads' SQL, charts drawn without a database. */
import { describe, expect, it } from 'vitest';

import { dailyChart } from '../loader/report/charts.js';
import { qualityChart } from '../loader/report/ops-charts.js';
import { escapeHtml } from '../loader/report/format.js';
import { duration, money } from '../loader/report/headline.js';
import { renderReport } from '../loader/report/index.js';
import { loadRowsSql } from '../loader/report/quality.js';
import { SEGMENTS, segmentOf, segmentTotals } from '../loader/report/segments.js';
import { toSvg } from '../loader/report/render.js';
import type { LoadQuality, ReportData } from '../loader/report/types.js';

const load = (loadId: number, over: Partial<LoadQuality> = {}): LoadQuality => ({
  loadId, source: `day-${loadId}.csv`, startedAt: '2026-01-01', rowsRead: 10, rejected: 0, quarantined: 0, duplicates: 0, transformed: true,
  byReason: { missing_invoice_no: 0, missing_stock_code: 0, bad_quantity: 0, bad_unit_price: 0, bad_invoice_date: 0, bad_customer_id: 0 },
  ...over,
});

describe('report units', () => {
  it('puts every (r_score, f_score) cell in exactly one segment', () => {
    const grid = [1, 2, 3, 4, 5].flatMap((r) => [1, 2, 3, 4, 5].map((f) => segmentOf(r, f)));
    expect(grid.filter((s) => s === 'champions')).toHaveLength(4);
    expect(grid.filter((s) => s === 'promising')).toHaveLength(6);
    expect(grid.filter((s) => s === 'needs attention')).toHaveLength(5);
    expect(grid.filter((s) => s === 'at risk')).toHaveLength(4);
    expect(grid.filter((s) => s === 'hibernating')).toHaveLength(6);
    expect(segmentOf(5, 5)).toBe('champions');
    expect(segmentOf(1, 5)).toBe('at risk');
    expect(segmentTotals([
      { rScore: 5, fScore: 5, customers: 2, monetary: 10 },
      { rScore: 4, fScore: 4, customers: 1, monetary: 5 },
      { rScore: 1, fScore: 1, customers: 3, monetary: 1 },
    ])).toEqual([{ segment: 'champions', customers: 3, monetary: 15 }, { segment: 'hibernating', customers: 3, monetary: 1 }]);
    expect(SEGMENTS).toHaveLength(5);
  });

  it('formats money from its decimal text exactly, and durations', () => {
    expect(money('10247219.32')).toBe('10,247,219.32');
    expect(money('0')).toBe('0.00');
    expect(money('-1234.5')).toBe('-1,234.50');
    expect(money('9007199254740993.01')).toBe('9,007,199,254,740,993.01'); // beyond a float's precision
    expect(duration(450)).toBe('450 ms');
    expect(duration(17148)).toBe('17.1 s');
    expect(duration(125_000)).toBe('2 min 5 s');
  });

  it('escapes text for HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('gives SQL for the rows of a load, with the load id only', () => {
    const sql = loadRowsSql(42);
    expect(sql).toContain('from staging.load_rejects where load_id = 42 order by line_no;');
    expect(sql).toContain('from core.quarantine where load_id = 42 order by line_no;');
    expect(sql.match(/load_id = 42/g)).toHaveLength(3);
  });

  it('draws one mark per data row: quality rows only for non-zero counts', async () => {
    const chart = qualityChart([load(1, { duplicates: 3 }), load(2), load(3, { rejected: 1, quarantined: 2, byReason: { ...load(3).byReason, bad_quantity: 2 } })]);
    expect(chart.rows).toBe(3);
    const svg = await toSvg(chart.spec);
    expect(svg.startsWith('<svg')).toBe(true);
    // one bar per row in the mark group of the chart
    const group = /<g class="mark-rect role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/.exec(svg)?.[1] ?? '';
    expect(group.match(/<path/g)).toHaveLength(3);
    expect(dailyChart([{ day: '2011-01-01', orders: 3, grossRevenue: 10, returnsValue: 2 }]).rows).toBe(3);
  });

  it('renders a page for an empty database, with a sentence instead of each chart', async () => {
    const empty: ReportData = {
      headline: { asOfDate: null, loads: 0, loadsPending: 0, rowsRead: 0, rowsStaged: 0, rowsRejected: 0, rowsQuarantined: 0, rowsDuplicate: 0, rowsClean: 0, customers: 0, orders: 0, grossRevenue: '0', returnsValue: '0', firstDay: null, lastDay: null, lastRun: null },
      daily: [], cohorts: [], rfmCells: [], topProducts: [], dqLoads: [], worstLoads: [], runs: [], lastRunFiles: [], dictionary: [],
    };
    const { html, charts } = await renderReport(empty, '2026-01-01T00:00:00.000Z');
    expect(charts).toEqual({});
    expect(html).not.toContain('<svg');
    expect(html.match(/data-chart-empty=/g)).toHaveLength(6);
    expect(html).toContain('No transform has completed yet');
    expect(html).toContain('generated 2026-01-01 00:00:00 UTC');
  });
});
