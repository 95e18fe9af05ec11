/**
 * COPY … FROM STDIN into staging.transactions over one or two connections. Each connection runs one
 * COPY per file; its rows are committed only when that COPY ends, and the server's row counts are what
 * the ledger records. A second stream opens once a file has sent `splitAfter` bytes: one large file
 * then loads over two connections (two server processes parse in parallel).
 */
import { once } from 'node:events';

import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

type CopyStream = ReturnType<typeof copyFrom>;

/** The connections of one worker, reused from file to file. */
export class Connections {
  private ctlClient: pg.Client | undefined;
  private copyClients: pg.Client[] = [];

  constructor(private readonly config: pg.ClientConfig) {}

  private async connect(): Promise<pg.Client> {
    const c = new pg.Client({ ...this.config, application_name: 'retail-elt load' });
    c.on('error', () => undefined); // a lost connection fails the next query, which reports it
    await c.connect();
    return c;
  }

  async ctl(): Promise<pg.Client> {
    this.ctlClient ??= await this.connect();
    return this.ctlClient;
  }

  /** connection i of copyClients, started (copyClients[i] once it is up) */
  private connecting: Promise<pg.Client>[] = [];

  async copyClient(k: number): Promise<pg.Client> {
    this.warm(k + 1);
    while (this.copyClients.length <= k) this.copyClients.push(await this.connecting[this.copyClients.length]!);
    return this.copyClients[k]!;
  }

  /**
   * Start connecting up to n COPY connections in the background (a large file will want them).
   * Their commits do not wait for the WAL flush (synchronous_commit off): safe, because a load only
   * becomes complete in a later, synchronous commit on the ledger connection, which flushes the WAL
   * of the COPYs before it; a crash in between leaves the load running, then cleaned and reloaded.
   */
  warm(n: number): void {
    while (this.connecting.length < n) {
      const p = this.connect().then(async (c) => {
        await c.query('set synchronous_commit = off');
        return c;
      });
      p.catch(() => undefined);
      this.connecting.push(p);
    }
  }

  /** Close the COPY connections: a COPY in flight is then rolled back by the server, never committed. */
  async closeCopies(): Promise<void> {
    const pending = this.connecting.slice(this.copyClients.length);
    const copies = this.copyClients;
    this.copyClients = [];
    this.connecting = [];
    for (const p of pending) void p.then((c) => c.end()).catch(() => undefined);
    await Promise.all(copies.map((c) => c.end().catch(() => undefined)));
  }

  /** Close everything (after a failure: the next file starts on fresh connections). */
  async close(): Promise<void> {
    const all = [this.ctlClient, ...this.copyClients].filter((c): c is pg.Client => c !== undefined);
    for (const p of this.connecting.slice(this.copyClients.length)) void p.then((c) => c.end()).catch(() => undefined);
    this.ctlClient = undefined;
    this.copyClients = [];
    this.connecting = [];
    await Promise.all(all.map((c) => c.end().catch(() => undefined)));
  }
}

/** A lost connection said plainly (the COPY it carried is rolled back by the server). */
function copyError(err: Error & { code?: string }): Error {
  if (/^(ECONNRESET|EPIPE|57P01|57P02|57P03)$/.test(err.code ?? '') || /terminat|EPIPE|ECONNRESET/i.test(err.message)) {
    return Object.assign(new Error(`lost the database connection during COPY (${err.message})`), { code: err.code });
  }
  return err;
}

export class CopySink {
  private streams: CopyStream[] = [];
  private failure: Error | undefined;
  private sent = 0;
  private next = 0;
  private detach: (() => void)[] = [];

  constructor(
    private readonly conns: Connections,
    private readonly sql: string,
    private readonly maxStreams: number,
    private readonly splitAfter: number,
  ) {}

  private async open(): Promise<void> {
    const client = await this.conns.copyClient(this.streams.length);
    const stream = client.query(copyFrom(this.sql, { highWaterMark: 1024 * 1024 }));
    const onError = (err: Error) => (this.failure ??= copyError(err));
    stream.on('error', onError);
    client.on('error', onError);
    this.detach.push(() => client.off('error', onError));
    this.streams.push(stream);
  }

  /** Send buffers; resolves when the streams can take more. */
  async write(buffers: Buffer[]): Promise<void> {
    if (this.streams.length === 0) await this.open();
    for (const buf of buffers) {
      if (this.failure) throw this.failure;
      if (this.streams.length < this.maxStreams && this.sent >= this.splitAfter) await this.open();
      // the stream with the least waiting goes next (round robin among equals)
      let k = this.next++ % this.streams.length;
      for (let j = 0; j < this.streams.length; j++) if (this.streams[j]!.writableLength < this.streams[k]!.writableLength) k = j;
      this.streams[k]!.write(buf);
      this.sent += buf.length;
    }
    if (this.streams.every((s) => s.writableNeedDrain)) {
      await Promise.race(this.streams.map((s) => once(s, 'drain'))).catch((err: Error) => {
        throw this.failure ?? copyError(err);
      });
    }
    if (this.failure) throw this.failure;
  }

  /** End every COPY; returns the rows the server says it stored. */
  async finish(): Promise<number> {
    if (this.streams.length === 0) await this.open();
    try {
      await Promise.all(
        this.streams.map(async (s) => {
          s.end();
          await once(s, 'finish');
        }),
      );
    } catch (err) {
      throw this.failure ?? copyError(err as Error);
    } finally {
      for (const off of this.detach.splice(0)) off();
    }
    if (this.failure) throw this.failure;
    return this.streams.reduce((n, s) => n + s.rowCount, 0);
  }
}
