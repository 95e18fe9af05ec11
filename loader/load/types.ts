/** The loader's public types (see index.ts). */

export type LoadStatus = 'loaded' | 'skipped' | 'failed';

export interface LoadResult {
  /** the source as given (path, URL, or "-" for stdin) */
  source: string;
  status: LoadStatus;
  /** loaded: the new load; skipped: the load that already has these bytes (or is loading them) */
  loadId?: number;
  rowsRead: number;
  rowsStaged: number;
  rowsRejected: number;
  seconds: number;
  /** loads this one replaced (--force) */
  replaced?: number[];
  /** why it was skipped, or a note (extra columns ignored, empty file) */
  message?: string;
  /** why it failed: one line, naming the line when there is one */
  error?: string;
}

export type LoadEvent =
  | { type: 'start'; source: string; totalBytes?: number }
  | { type: 'progress'; source: string; bytes: number; totalBytes?: number; rows: number }
  | { type: 'note'; source: string; message: string }
  | { type: 'done'; result: LoadResult };

export interface LoadOptions {
  /** files loaded at once, each over its own connections (default: the CPU count) */
  jobs?: number;
  /** load again bytes that already have a complete load, replacing it */
  force?: boolean;
  onEvent?: (event: LoadEvent) => void;
  /** COPY streams per file (default 2): a file goes over a second connection after `splitAfterBytes` */
  streamsPerFile?: number;
  /** default 2 MiB */
  splitAfterBytes?: number;
  /** the sources' format; default: from the content (first non-blank byte after gzip) */
  format?: 'csv' | 'jsonl' | 'json';
  /** URL sources: request headers, timeout, retries, page cap (see http.ts) */
  http?: Partial<import('./http.js').HttpOptions>;
}
