/** What `load` prints: a live bar per file on a terminal, else one line per file; totals; JSON. */
import type { LoadEvent, LoadResult } from './types.js';

/** 1234567 → "1,234,567" (no Intl: loading ICU costs more than this whole line). */
export const n = (x: number): string => String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** One line per source (pure). */
export function resultLine(r: LoadResult): string {
  if (r.status === 'failed') return `failed   ${r.source}: ${r.error ?? 'unknown error'}`;
  if (r.status === 'skipped') return `skipped  ${r.source}: ${r.message ?? ''}`;
  const note = r.message ? `  (${r.message})` : '';
  return `loaded   ${r.source}  load ${r.loadId}  staged ${n(r.rowsStaged)}  rejected ${n(r.rowsRejected)}  ${r.seconds.toFixed(2)}s${note}`;
}

export interface Totals { sources: number; loaded: number; skipped: number; failed: number; rowsRead: number; rowsStaged: number; rowsRejected: number; seconds: number }

export function totals(results: LoadResult[], seconds: number): Totals {
  const t: Totals = { sources: results.length, loaded: 0, skipped: 0, failed: 0, rowsRead: 0, rowsStaged: 0, rowsRejected: 0, seconds };
  for (const r of results) {
    t[r.status]++;
    t.rowsRead += r.rowsRead;
    t.rowsStaged += r.rowsStaged;
    t.rowsRejected += r.rowsRejected;
  }
  return t;
}

export function totalsLine(t: Totals): string {
  return `${t.sources} source${t.sources === 1 ? '' : 's'}: ${t.loaded} loaded, ${t.skipped} skipped, ${t.failed} failed; ${n(t.rowsStaged)} rows staged, ${n(t.rowsRejected)} rejected in ${t.seconds.toFixed(1)}s`;
}

interface Bar { bytes: number; total?: number; rows: number; started: number }

function barLine(source: string, b: Bar, width: number): string {
  const secs = (Date.now() - b.started) / 1000;
  const rate = secs > 0 ? Math.round(b.rows / secs) : 0;
  const frac = b.total ? Math.min(1, b.bytes / b.total) : undefined;
  const eta = frac && frac > 0 ? Math.max(0, Math.round(secs / frac - secs)) : undefined;
  const unit = (b.total ?? b.bytes) >= 1e6 ? { d: 1e6, u: 'MB' } : { d: 1e3, u: 'kB' };
  const mb = (x: number) => (x / unit.d).toFixed(1);
  const cells = 24;
  const bar = frac === undefined ? '' : `[${'#'.repeat(Math.round(frac * cells)).padEnd(cells, '-')}] ${Math.round(frac * 100)}% `;
  const size = b.total ? `${mb(b.bytes)}/${mb(b.total)} ${unit.u}` : `${mb(b.bytes)} ${unit.u}`;
  const line = `${bar}${size}  ${n(rate)} rows/s${eta === undefined ? '' : `  ETA ${eta}s`}  ${source}`;
  return line.length > width ? line.slice(0, width - 1) : line;
}

/** Prints as events arrive. Bars only when `tty` is a terminal; lines on `out`, errors on `err`. */
export class Reporter {
  private bars = new Map<string, Bar>();
  private drawn = 0;
  private lastDraw = 0;

  constructor(
    private readonly mode: { quiet: boolean; json: boolean; tty?: NodeJS.WriteStream },
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly err: NodeJS.WritableStream = process.stderr,
  ) {}

  private get live(): boolean {
    return !!this.mode.tty?.isTTY && !this.mode.quiet && !this.mode.json;
  }

  private clear(): void {
    if (!this.drawn || !this.mode.tty) return;
    this.mode.tty.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(force = false): void {
    if (!this.live || !this.mode.tty) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.clear();
    const width = this.mode.tty.columns || 100;
    const lines = [...this.bars].map(([source, b]) => barLine(source, b, width));
    if (lines.length) this.mode.tty.write(lines.join('\n') + '\n');
    this.drawn = lines.length;
  }

  private print(stream: NodeJS.WritableStream, line: string): void {
    this.clear();
    stream.write(line + '\n');
    this.draw(true);
  }

  event(e: LoadEvent): void {
    if (e.type === 'start') this.bars.set(e.source, { bytes: 0, total: e.totalBytes, rows: 0, started: Date.now() });
    else if (e.type === 'progress') {
      const b = this.bars.get(e.source);
      if (b) Object.assign(b, { bytes: e.bytes, rows: e.rows });
      this.draw();
    } else if (e.type === 'note') {
      if (!this.mode.quiet && !this.mode.json) this.print(this.err, `note     ${e.source}: ${e.message}`);
    } else {
      this.bars.delete(e.result.source);
      if (e.result.status === 'failed') this.print(this.err, `load: ${e.result.source}: ${e.result.error ?? 'failed'}`);
      else if (!this.mode.quiet && !this.mode.json) this.print(this.out, resultLine(e.result));
      else this.draw(true);
    }
  }

  summary(results: LoadResult[], seconds: number): void {
    this.clear();
    const t = totals(results, seconds);
    if (this.mode.json) this.out.write(JSON.stringify({ ...t, results }, null, 2) + '\n');
    else if (!this.mode.quiet) this.out.write(totalsLine(t) + '\n');
  }
}
