/** The worst loads (pure): a table of their counts and the SQL that shows their rows. */
import { escapeHtml, int } from './format.js';
import { QUARANTINE_REASONS, type LoadQuality } from './types.js';

/** SQL for an engineer (it reads staging and core, which the analyst role cannot) to see a load's rows */
export function loadRowsSql(loadId: number): string {
  const id = Math.trunc(loadId);
  return [
    `-- rejected by the loader: raw bytes and reason`,
    `select line_no, reason, raw from staging.load_rejects where load_id = ${id} order by line_no;`,
    `-- quarantined by the transform: staged text and reason`,
    `select * from core.quarantine where load_id = ${id} order by line_no;`,
    `-- duplicates: staged rows of the load kept neither in core nor in quarantine`,
    `select staged.* from staging.transactions as staged`,
    `where staged.load_id = ${id}`,
    `  and not exists (select from core.transactions as t where t.load_id = staged.load_id and t.line_no = staged.line_no)`,
    `  and not exists (select from core.quarantine as q where q.load_id = staged.load_id and q.line_no = staged.line_no)`,
    `order by staged.line_no;`,
  ].join('\n');
}

function reasons(l: LoadQuality): string {
  const parts = QUARANTINE_REASONS.filter((r) => l.byReason[r] > 0).map((r) => `${r} ${int(l.byReason[r])}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

export function qualityTables(worst: LoadQuality[]): string {
  if (!worst.length) return '<p class="empty">No load has rejected, quarantined or duplicate rows.</p>';
  const rows = worst
    .map((l) => `<tr data-load="${l.loadId}"><td class="n">${l.loadId}</td><td><code>${escapeHtml(l.source)}</code></td><td class="n">${int(l.rowsRead)}</td><td class="n">${int(l.rejected)}</td><td class="n">${int(l.quarantined)}${escapeHtml(reasons(l))}</td><td class="n">${int(l.duplicates)}</td></tr>`)
    .join('');
  const sql = worst.map((l) => `<details><summary>SQL for the rows of load ${l.loadId}</summary><pre>${escapeHtml(loadRowsSql(l.loadId))}</pre></details>`).join('');
  return `<h3>The ${worst.length} worst load${worst.length === 1 ? '' : 's'} (most rows not kept)</h3>
<table><thead><tr><th class="n">load_id</th><th>source</th><th class="n">read</th><th class="n">rejected</th><th class="n">quarantined</th><th class="n">duplicates</th></tr></thead><tbody>${rows}</tbody></table>
<p>To see their rows (as a role that may read staging and core, e.g. the table owner or transformer):</p>${sql}`;
}
