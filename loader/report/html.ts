/**
 * The report page (pure): one self-contained HTML document. Styles inline, charts as inline SVG,
 * no script, no font, image or link that leaves the file.
 */
import { escapeHtml, int } from './format.js';
import { headlineHtml } from './headline.js';
import { qualityTables } from './quality.js';
import type { DictionaryRow, ReportData } from './types.js';

/** a chart's SVG in a figure that names it and the rows it draws, or a sentence when it has no data */
export function figure(id: string, svg: string | undefined, rows: number, empty: string): string {
  if (!svg || rows === 0) return `<p class="empty" data-chart-empty="${id}">${escapeHtml(empty)}</p>`;
  return `<figure class="chart" data-chart="${id}" data-rows="${rows}">${svg}</figure>`;
}

export const SECTIONS = [
  ['headline', 'Headline'],
  ['daily', 'Daily gross revenue, orders and returns'],
  ['cohorts', 'Cohort retention'],
  ['rfm', 'RFM: recency and frequency scores, monetary by segment'],
  ['products', 'Top products by revenue'],
  ['quality', 'Data quality per load'],
  ['runs', 'Transform runs'],
  ['dictionary', 'Data dictionary'],
] as const;
export type SectionId = (typeof SECTIONS)[number][0];

function dictionaryHtml(rows: DictionaryRow[]): string {
  const byRelation = new Map<string, DictionaryRow[]>();
  for (const r of rows) byRelation.set(`${r.schema}.${r.relation}`, [...(byRelation.get(`${r.schema}.${r.relation}`) ?? []), r]);
  const toc = [...byRelation.keys()].map((k) => `<a href="#rel-${escapeHtml(k)}">${escapeHtml(k)}</a>`).join(' · ');
  const tables = [...byRelation.entries()].map(([name, cols]) => {
    const first = cols[0]!;
    const body = cols
      .map((c) => `<tr><td><code>${escapeHtml(c.column)}</code></td><td><code>${escapeHtml(c.type)}</code></td><td${c.comment ? '' : ' class="missing"'}>${escapeHtml(c.comment ?? '(no comment)')}</td></tr>`)
      .join('');
    return `<div class="relation" id="rel-${escapeHtml(name)}" data-relation="${escapeHtml(name)}"><h3><code>${escapeHtml(name)}</code> <small>${escapeHtml(first.kind)}${first.analystReadable ? ', readable by analyst' : ''}</small></h3>
<p${first.relationComment ? '' : ' class="missing"'}>${escapeHtml(first.relationComment ?? '(no comment)')}</p>
<table><thead><tr><th>column</th><th>type</th><th>meaning</th></tr></thead><tbody>${body}</tbody></table></div>`;
  });
  return `<p>Every relation people read, with each column's type and meaning, read from the database's own comments (<code>meta.data_dictionary</code>; psql <code>\\d+</code>, DBeaver and Metabase show the same words).</p><p class="toc">${toc}</p>${tables.join('\n')}`;
}

function runsText(d: ReportData): string {
  const runs = d.runs;
  if (!runs.length) return '<p class="empty">No transform run yet.</p>';
  const full = runs.filter((r) => r.isFull).length;
  const failed = runs.filter((r) => r.status === 'failed').length;
  return `<p>${int(runs.length)} run${runs.length === 1 ? '' : 's'} shown: ${int(runs.length - full)} incremental, ${int(full)} full${failed ? `, ${int(failed)} failed` : ''}.</p>`;
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#222;background:#f6f7f9}
header{background:#1f3b57;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.85}
nav{padding:8px 32px;background:#fff;border-bottom:1px solid #ddd;font-size:13px}nav a{margin-right:14px;color:#1f3b57}
main{padding:8px 32px 40px;max-width:1000px}section{background:#fff;border:1px solid #e1e4e8;border-radius:6px;padding:12px 20px;margin:16px 0}
h2{font-size:18px;margin:6px 0 10px}h3{font-size:15px;margin:18px 0 4px}small{color:#666;font-weight:normal}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:10px}.tile{border:1px solid #e1e4e8;border-radius:6px;padding:8px 10px}
.tile .label{font-size:12px;color:#555}.tile .value{font-size:20px;font-weight:600;margin-top:2px}.tile .note{font-size:11px;color:#777}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0;width:100%}th,td{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}pre{background:#f3f4f6;padding:6px 8px;font-size:11.5px;overflow-x:auto;white-space:pre-wrap}
.missing{color:#b00020}.empty{color:#666;font-style:italic}figure.chart{margin:8px 0;overflow-x:auto}.toc{font-size:12px;line-height:1.7}
`;

export interface PageInput {
  data: ReportData;
  svgs: Partial<Record<string, { svg: string; rows: number }>>;
  generatedAt: string;
}

export function pageHtml({ data, svgs, generatedAt }: PageInput): string {
  const f = (id: string, empty: string) => figure(id, svgs[id]?.svg, svgs[id]?.rows ?? 0, empty);
  const fileRun = data.headline.lastRun;
  const body: Record<SectionId, string> = {
    headline: headlineHtml(data.headline, data.dqLoads[data.dqLoads.length - 1]),
    daily: f('daily', 'No sale or cancellation line yet.'),
    cohorts: `<p>Each cell: the customers of a cohort (month of their first sale) with a sale in a later month, as a share of the cohort (<code>features.customer_cohorts.retention</code>). Month 0 is always 100%; the colour scale stops at the highest later value.</p>${f('cohorts', 'No customer yet.')}`,
    rfm: `<p>Left: customers per cell of recency score × frequency score (<code>features.customer_features</code>, 5 = best). Right: their monetary summed per segment (champions r 4-5 f 4-5; promising r 4-5 f 1-3; needs attention r 3; at risk r 1-2 f 4-5; hibernating r 1-2 f 1-3), labelled with its customers.</p>${f('rfm', 'No customer yet.')}`,
    products: f('products', 'No product sold yet.'),
    quality: `${f('quality', 'Every loaded row was kept: nothing rejected, quarantined or duplicated.')}${qualityTables(data.worstLoads)}`,
    runs: `${runsText(data)}${f('runs', 'No transform run yet.')}${fileRun ? f('files', 'No file timings.') : ''}`,
    dictionary: dictionaryHtml(data.dictionary),
  };
  const sections = SECTIONS.map(([id, title]) => `<section id="${id}" data-section="${id}"><h2>${escapeHtml(title)}</h2>\n${body[id]}\n</section>`).join('\n');
  const nav = SECTIONS.map(([id, title]) => `<a href="#${id}">${escapeHtml(title.split(':')[0]!)}</a>`).join('');
  const asOf = data.headline.asOfDate ? `as of ${data.headline.asOfDate}` : 'no data yet';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>retail-elt report, ${escapeHtml(asOf)}</title><style>${STYLE}</style></head>
<body><header><h1>retail-elt: features, data quality and runs</h1><p>${escapeHtml(asOf)} · generated ${escapeHtml(generatedAt)} by <code>npm run report</code></p></header>
<nav>${nav}</nav><main>
${sections}
</main></body></html>
`;
}
