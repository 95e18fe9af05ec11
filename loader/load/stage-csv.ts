/** A CSV source's records (after its header) through the record scanner into COPY, rejects aside. */
import { CopySink } from './copy.js';
import { CANONICAL } from './header.js';
import type { HeaderRead } from './header-read.js';
import { RecordScanner } from './scan.js';
import { READ_CHUNK } from './source.js';
import type { StageContext, Staged } from './stage.js';

export async function stageCsv(ctx: StageContext, head: Extract<HeaderRead, { empty: false }>): Promise<Staged> {
  const { raw, input, opt } = ctx;
  const { map, header } = head;
  const out: Buffer[] = [];
  let rawBytes = 0;
  const keep = map.extras.length ? map.columns.map((c) => c !== null) : undefined;
  if (map.extras.length) opt.emit({ type: 'note', source: ctx.source, message: `extra columns ignored: ${map.extras.join(', ')}` });
  const columns = map.columns.filter((c) => c !== null);
  if (!columns.every((c) => (CANONICAL as readonly string[]).includes(c))) throw new Error('unexpected column');
  const sql = `copy staging.transactions (load_id, line_no, ${columns.join(', ')}) from stdin with (format csv)`;
  const sink = new CopySink(ctx.conns, sql, opt.streams, opt.splitAfter);
  const sc = new RecordScanner({
    fieldCount: map.fieldCount,
    keep,
    prefix: Buffer.from(`${ctx.loadId},`),
    firstLine: header.firstLine,
    onData: (b) => out.push(b),
    onReject: (r) => ctx.reject(r),
  });
  const drain = async () => {
    if (out.length) await sink.write(out.splice(0));
    await ctx.flushFull();
  };
  const progress = (bytes: number) => opt.emit({ type: 'progress', source: ctx.source, bytes, totalBytes: raw.size, rows: sc.rowsRead });
  sc.push(header.rest);
  await drain();
  if (raw.readInto && !input.gzip) {
    // a plain file: read straight into the scanner's buffer
    let bytes = input.rawBytes;
    for (;;) {
      const { buf, offset } = sc.prepare(READ_CHUNK);
      const n = await raw.readInto(buf, offset, READ_CHUNK);
      sc.commit(n);
      if (n === 0) break;
      bytes += n;
      await drain();
      await ctx.settleSha(false);
      progress(bytes);
    }
    rawBytes = bytes;
  } else {
    for (let r = await head.chunks.next(); !r.done; r = await head.chunks.next()) {
      sc.push(r.value);
      await drain();
      progress(input.rawBytes);
    }
  }
  sc.end();
  await drain();
  await ctx.settleSha(true);
  return { rowsRead: sc.rowsRead, rowsStaged: await sink.finish(), rawBytes };
}
