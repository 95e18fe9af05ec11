/**
 * What a generated file holds, counted while it is written: per file and in total, the records,
 * where each defect went, and what load + transform must therefore report (contract §2, §3).
 */
import { CLEAN_VARIANTS, QUARANTINE_REASONS, REJECT_REASONS, isQuarantine, isReject, type Defect } from './dirty.js';

export const LINE_KINDS = ['sale', 'cancellation', 'adjustment', 'fee'] as const;
export type LineKind = (typeof LINE_KINDS)[number];

const zeros = <K extends string>(keys: readonly K[]): Record<K, number> => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/** counts of one file (or of all files) */
export class Tally {
  rows = 0;
  duplicates = 0;
  readonly rejects = zeros(REJECT_REASONS);
  readonly quarantine = zeros(QUARANTINE_REASONS);
  readonly variants = zeros(CLEAN_VARIANTS);
  /** line kinds of the distinct clean rows (what core.transactions will hold) */
  readonly kinds = zeros(LINE_KINDS);

  record(defect: Defect | undefined, kind: LineKind): void {
    this.rows++;
    if (defect === undefined) this.kinds[kind]++;
    else if (isReject(defect)) this.rejects[defect]++;
    else if (isQuarantine(defect)) this.quarantine[defect]++;
    else (this.variants[defect]++, this.kinds[kind]++);
  }

  duplicate(): void {
    this.rows++;
    this.duplicates++;
  }

  expected(): Expected {
    const rejected = sum(this.rejects);
    const quarantined = sum(this.quarantine);
    const staged = this.rows - rejected;
    return {
      rows_read: this.rows,
      rows_rejected: rejected,
      rows_staged: staged,
      rows_quarantined: quarantined,
      duplicates: this.duplicates,
      rows_clean: staged - quarantined - this.duplicates,
      rejects: { ...this.rejects },
      quarantine: { ...this.quarantine },
      line_kinds: { ...this.kinds },
      variants: { ...this.variants },
    };
  }
}

export interface Expected {
  rows_read: number;
  rows_rejected: number;
  rows_staged: number;
  rows_quarantined: number;
  duplicates: number;
  rows_clean: number;
  rejects: Record<(typeof REJECT_REASONS)[number], number>;
  quarantine: Record<(typeof QUARANTINE_REASONS)[number], number>;
  line_kinds: Record<LineKind, number>;
  /** clean rows written in an unusual but valid way (they are part of rows_clean) */
  variants: Record<(typeof CLEAN_VARIANTS)[number], number>;
}

export interface ManifestFile {
  path: string;
  date: string | null;
  expected: Expected;
}

export interface Manifest {
  generator: 'retail-elt generate';
  version: 1;
  options: { rows: number | null; days: number | null; seed: number; from: string; volume: number; dirty: number; gzip: boolean; split_by_day: boolean };
  first_date: string | null;
  last_date: string | null;
  days: number;
  expected: Expected;
  /** where each defect is: file index and the physical line its record starts on (header = 1); at most 1000 per kind */
  positions: Partial<Record<Defect, { file: number; line: number }[]>>;
  /** files written; the first 10,000 are listed with their own counts */
  file_count: number;
  files: ManifestFile[];
}

export const POSITIONS_PER_KIND = 1000;

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((s, n) => s + n, 0);
}

/** what the manifest needs from a finished generator */
export interface GeneratedCounts {
  total: Tally;
  files: { day: number; tally: Tally }[];
  fileCount: number;
  positions: Manifest['positions'];
  days: number;
  firstDay: number;
  lastDay: number;
}

export function buildManifest(g: GeneratedCounts, options: Manifest['options'], paths: string[], isoDay: (day: number) => string): Manifest {
  return {
    generator: 'retail-elt generate',
    version: 1,
    options,
    first_date: g.firstDay < 0 ? null : isoDay(g.firstDay),
    last_date: g.lastDay < 0 ? null : isoDay(g.lastDay),
    days: g.days,
    expected: g.total.expected(),
    positions: g.positions,
    file_count: g.fileCount,
    files: g.files.map((f, i) => ({ path: paths[i] ?? '-', date: options.split_by_day ? isoDay(f.day) : null, expected: f.tally.expected() })),
  };
}
