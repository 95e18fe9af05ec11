/** The headline section (pure): the day's figures as tiles, each tagged with its exact value for checks. */
import { escapeHtml, int } from './format.js';
import type { Headline, LoadQuality } from './types.js';

/** '10247219.32' → '10,247,219.32' (exact: formats the decimal text, never through a float) */
export function money(decimal: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(decimal);
  if (!m) return decimal;
  const cents = (m[3] ?? '').padEnd(2, '0');
  return `${m[1]}${m[2]!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function tile(figure: string, label: string, value: string, shown: string, note = ''): string {
  return `<div class="tile" data-figure="${figure}" data-value="${escapeHtml(value)}"><div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(shown)}</div>${note ? `<div class="note">${escapeHtml(note)}</div>` : ''}</div>`;
}

/** the latest complete load: is today's load healthy? */
function latestLoad(l: LoadQuality | undefined): string {
  if (!l) return '<p class="empty">No complete load yet: run <code>npm run load</code>.</p>';
  const kept = l.transformed ? `, ${int(l.quarantined)} quarantined, ${int(l.duplicates)} duplicates` : ' (not transformed yet)';
  return `<p data-figure="latest_load" data-value="${l.loadId}">Latest load: ${l.loadId}, <code>${escapeHtml(l.source)}</code>: ${int(l.rowsRead)} rows read, ${int(l.rejected)} rejected${kept}.</p>`;
}

export function headlineHtml(h: Headline, latest?: LoadQuality): string {
  const r = h.lastRun;
  const run = r
    ? `<p data-figure="last_transform" data-value="${r.runId}">Last transform: run ${r.runId}, finished <span data-figure="last_transform_at" data-value="${escapeHtml(r.finishedAt)}">${escapeHtml(r.finishedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}</span>, <span data-figure="last_transform_mode" data-value="${r.isFull ? 'full' : 'incremental'}">${r.isFull ? `full (${escapeHtml(r.fullReason ?? '')})` : 'incremental'}</span>, <span data-figure="last_transform_ms" data-value="${r.durationMs}">${duration(r.durationMs)}</span>; ${int(r.loadsProcessed)} load${r.loadsProcessed === 1 ? '' : 's'}, ${int(r.rowsProcessed)} staged rows processed.</p>`
    : '<p class="empty">No transform has completed yet: run <code>npm run transform</code>.</p>';
  const pending = h.loadsPending ? `<p class="missing">${int(h.loadsPending)} complete load${h.loadsPending === 1 ? ' is' : 's are'} not transformed yet: the figures below do not include ${h.loadsPending === 1 ? 'it' : 'them'}.</p>` : '';
  const span = h.firstDay && h.lastDay ? `sales from ${h.firstDay} to ${h.lastDay}` : '';
  return `<div class="tiles">
${tile('as_of_date', 'as_of_date', h.asOfDate ?? '', h.asOfDate ?? 'none', 'the day after the latest invoice')}
${tile('rows_loaded', 'rows loaded', String(h.rowsRead), int(h.rowsRead), `${int(h.loads)} complete loads`)}
${tile('rows_rejected', 'rejected', String(h.rowsRejected), int(h.rowsRejected), 'by the loader')}
${tile('rows_quarantined', 'quarantined', String(h.rowsQuarantined), int(h.rowsQuarantined), 'by the transform')}
${tile('duplicates', 'duplicates', String(h.rowsDuplicate), int(h.rowsDuplicate), 'equal to a row loaded before')}
${tile('customers', 'customers', String(h.customers), int(h.customers), 'with a sale line')}
${tile('gross_revenue', 'gross revenue', h.grossRevenue, money(h.grossRevenue), span)}
${tile('returns_value', 'returns', h.returnsValue, money(h.returnsValue), 'value of cancellation lines')}
</div>
${run}${latestLoad(latest)}${pending}
<p><small>Rows loaded, rejected, quarantined and duplicates: Σ over complete loads in <code>meta.load_summary</code>; gross revenue and returns: Σ of <code>features.daily_sales</code>; customers: rows of <code>features.customer_features</code>.</small></p>`;
}
