/**
 * Where the rows go (I/O): a CSV or a Parquet file, written to a temporary name beside the target and
 * renamed onto it at the end, so FILE is the whole set or untouched. Rows arrive in batches, as text
 * values in COLUMNS order; at most one Parquet row group is held in memory.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';

import { ParquetWriter, fileWriter } from 'hyparquet-writer';

import { COLUMNS, csvHeader, csvLine, parquetConverters, parquetSchema } from './columns.js';
import type { Format } from './args.js';

export type TextRow = (string | null)[];

export interface Sink {
  push(rows: TextRow[]): Promise<void>;
  /** complete the file and move it onto its name; returns its size in bytes */
  finish(): Promise<number>;
  /** remove what was written */
  abort(): Promise<void>;
}

/** Rows per Parquet row group (and the most rows held in memory). */
export const ROW_GROUP_ROWS = 50_000;

function temporaryName(out: string): string {
  return `${out}.partial-${process.pid}`;
}

async function settle(tmp: string, out: string): Promise<number> {
  await rename(tmp, out);
  return (await stat(out)).size;
}

function csvSink(out: string): Sink {
  const tmp = temporaryName(out);
  const stream: WriteStream = createWriteStream(tmp);
  let failure: Error | undefined;
  stream.on('error', (err) => (failure = err));
  const write = async (text: string) => {
    if (failure) throw failure;
    if (stream.write(text)) return;
    // wait for the stream to take more; an error meanwhile ends the wait (both listeners removed)
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => (stream.off('error', onError), resolve());
      const onError = (err: Error) => (stream.off('drain', onDrain), reject(err));
      stream.once('drain', onDrain);
      stream.once('error', onError);
    });
  };
  let started = false;
  return {
    async push(rows) {
      if (!started) (started = true), await write(csvHeader());
      let text = '';
      for (const row of rows) text += csvLine(row);
      await write(text);
    },
    async finish() {
      if (!started) await write(csvHeader());
      stream.end();
      await once(stream, 'close');
      if (failure) throw failure;
      return settle(tmp, out);
    },
    async abort() {
      stream.destroy();
      await rm(tmp, { force: true });
    },
  };
}

function parquetSink(out: string, rowGroupRows: number): Sink {
  const tmp = temporaryName(out);
  const writer = new ParquetWriter({ writer: fileWriter(tmp), schema: parquetSchema(), createdBy: 'retail-elt training-set (hyparquet-writer)' });
  const convert = parquetConverters();
  let columns: unknown[][] = COLUMNS.map(() => []);
  const flush = () => {
    const n = columns[0]!.length;
    if (!n) return;
    writer.write({ columnData: COLUMNS.map((col, i) => ({ name: col.name, data: columns[i]! })), rowGroupSize: n });
    columns = COLUMNS.map(() => []);
  };
  return {
    async push(rows) {
      for (const row of rows) {
        for (let i = 0; i < COLUMNS.length; i++) columns[i]!.push(convert[i]!(row[i] ?? null));
        if (columns[0]!.length >= rowGroupRows) flush();
      }
    },
    async finish() {
      flush();
      await writer.finish();
      return settle(tmp, out);
    },
    async abort() {
      await rm(tmp, { force: true });
    },
  };
}

export function openSink(format: Format, out: string, rowGroupRows = ROW_GROUP_ROWS): Sink {
  return format === 'csv' ? csvSink(out) : parquetSink(out, rowGroupRows);
}
