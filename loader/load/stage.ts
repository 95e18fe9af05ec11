/** What staging one source needs from its load (file.ts), whatever the format. */
import type { Connections } from './copy.js';
import type { Decoded } from './decode.js';
import type { Reject } from './scan.js';
import type { RawInput } from './source.js';
import type { LoadEvent } from './types.js';

export interface StageContext {
  conns: Connections;
  loadId: number;
  /** the source's name (masked for URLs), for events */
  source: string;
  opt: { streams: number; splitAfter: number; emit: (event: LoadEvent) => void };
  raw: RawInput;
  input: Decoded;
  reject(r: Reject): void;
  /** insert the rejects kept so far once they make a full batch */
  flushFull(): Promise<void>;
  /** claim an early (worker) hash once it is in; with wait, wait for it. Throws when another load has these bytes */
  settleSha(wait: boolean): Promise<void>;
}

export interface Staged {
  /** records read (staged + rejected) */
  rowsRead: number;
  /** rows the server says it stored */
  rowsStaged: number;
  /** raw bytes read past the decoder (files read straight into the scanner) */
  rawBytes: number;
}
