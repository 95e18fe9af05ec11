/**
 * buildReport: read the report's aggregates (queries.ts), draw the charts as SVG (render.ts), write one
 * self-contained DIR/index.html. Query time and rendering time are measured apart (the bench reports both).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type pg from 'pg';

import { cohortChart, dailyChart, productsChart, rfmChart, type Chart } from './charts.js';
import { filesChart, qualityChart, runsChart } from './ops-charts.js';
import { pageHtml, SECTIONS } from './html.js';
import { readReportData } from './queries.js';
import { toSvg } from './render.js';
import type { ReportData } from './types.js';

export interface ReportSummary {
  path: string;
  bytes: number;
  as_of_date: string | null;
  sections: string[];
  /** chart id → data rows drawn (charts without data are not drawn) */
  charts: Record<string, number>;
  query_ms: number;
  render_ms: number;
  write_ms: number;
}

export function chartsOf(data: ReportData): Chart[] {
  const charts = [dailyChart(data.daily), cohortChart(data.cohorts), rfmChart(data.rfmCells), productsChart(data.topProducts), qualityChart(data.dqLoads), runsChart(data.runs)];
  if (data.headline.lastRun) charts.push(filesChart(data.lastRunFiles, data.headline.lastRun.runId));
  return charts.filter((c) => c.rows > 0);
}

/** the page for already-read data (no database): charts drawn, HTML returned */
export async function renderReport(data: ReportData, generatedAt = new Date().toISOString()): Promise<{ html: string; charts: Record<string, number> }> {
  const svgs: Record<string, { svg: string; rows: number }> = {};
  for (const chart of chartsOf(data)) svgs[chart.id] = { svg: await toSvg(chart.spec), rows: chart.rows };
  const charts = Object.fromEntries(Object.entries(svgs).map(([id, s]) => [id, s.rows]));
  return { html: pageHtml({ data, svgs, generatedAt: generatedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') }), charts };
}

export async function buildReport(db: { pool: pg.Pool }, outDir: string): Promise<ReportSummary> {
  const t0 = performance.now();
  const c = await db.pool.connect();
  let data: ReportData;
  try {
    data = await readReportData(c);
  } finally {
    c.release();
  }
  const t1 = performance.now();
  const { html, charts } = await renderReport(data);
  const t2 = performance.now();
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, 'index.html');
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, html);
  await rename(tmp, path); // a reader never sees a half-written page
  const t3 = performance.now();
  return {
    path,
    bytes: Buffer.byteLength(html),
    as_of_date: data.headline.asOfDate,
    sections: SECTIONS.map(([id]) => id),
    charts,
    query_ms: Math.round(t1 - t0),
    render_ms: Math.round(t2 - t1),
    write_ms: Math.round(t3 - t2),
  };
}
