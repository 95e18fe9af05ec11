/** The report's operational charts (pure): rows not kept per load, transform run durations, time per SQL file. */
import { base, WIDTH, type Chart } from './charts.js';
import { QUARANTINE_REASONS, type ReportData } from './types.js';

export function qualityChart(d: ReportData['dqLoads']): Chart {
  const values = d.flatMap((l) => [
    { load: l.loadId, kind: 'rejected', rows: l.rejected },
    ...QUARANTINE_REASONS.map((r) => ({ load: l.loadId, kind: `quarantined: ${r}`, rows: l.byReason[r] })),
    { load: l.loadId, kind: 'duplicates', rows: l.duplicates },
  ]).filter((v) => v.rows > 0);
  const kinds = ['rejected', ...QUARANTINE_REASONS.map((r) => `quarantined: ${r}`), 'duplicates'];
  return {
    id: 'quality',
    rows: values.length,
    spec: {
      ...base,
      width: WIDTH, height: 220, title: `Rows not kept, per load (the latest ${d.length} complete loads, in load order)`, data: { values },
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'load', type: 'ordinal', title: 'load_id', axis: { labelOverlap: 'parity', labelAngle: 0 } },
        y: { field: 'rows', type: 'quantitative', title: 'rows', stack: 'zero' },
        color: { field: 'kind', type: 'nominal', title: null, scale: { domain: kinds, range: ['#e45756', '#f58518', '#ff9da6', '#eeca3b', '#b279a2', '#9d755d', '#bab0ac', '#4c78a8'] }, legend: { orient: 'top', columns: 4 } },
      },
    },
  };
}

export function runsChart(d: ReportData['runs']): Chart {
  const values = d.map((r) => ({ ...r, seconds: r.durationMs / 1000, kind: r.status === 'failed' ? 'failed' : r.isFull ? 'full' : 'incremental' }));
  return {
    id: 'runs',
    rows: values.length,
    spec: {
      ...base,
      width: { step: 24 }, height: 180, title: `Duration of the last ${values.length} transform runs`, data: { values },
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'runId', type: 'ordinal', title: 'run_id', axis: { labelAngle: 0, labelOverlap: 'parity' } },
        y: { field: 'seconds', type: 'quantitative', title: 'seconds' },
        color: { field: 'kind', type: 'nominal', title: null, scale: { domain: ['incremental', 'full', 'failed'], range: ['#54a24b', '#4c78a8', '#e45756'] }, legend: { orient: 'top' } },
      },
    },
  };
}

export function filesChart(d: ReportData['lastRunFiles'], runId: number): Chart {
  const values = d.map((f) => ({ ...f, seconds: f.durationMs / 1000 }));
  return {
    id: 'files',
    rows: values.length,
    spec: {
      ...base,
      width: 560, height: { step: 20 }, title: `Time per SQL file in run ${runId}`, data: { values },
      mark: { type: 'bar' },
      encoding: {
        y: { field: 'file', type: 'nominal', sort: null, title: null },
        x: { field: 'seconds', type: 'quantitative', title: 'seconds' },
        color: { field: 'action', type: 'nominal', title: 'action', scale: { domain: ['run', 'create', 'refresh', 'skip'], range: ['#4c78a8', '#f58518', '#54a24b', '#bab0ac'] } },
      },
    },
  };
}
