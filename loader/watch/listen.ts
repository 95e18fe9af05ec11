/**
 * A LISTEN connection that comes back by itself: every notification on the channel, and every
 * (re)connection (notifications may have been missed meanwhile), calls `poke`.
 */
import pg from 'pg';

import { errorText, type EventLog } from './log.js';

export interface ListenOptions {
  config: pg.ClientConfig;
  /** a fixed channel name of ours, never input */
  channel: string;
  poke: () => void;
  log: EventLog;
  signal: AbortSignal;
  /** longest wait between reconnection attempts */
  maxBackoffMs?: number;
}

export class Listener {
  private client: pg.Client | undefined;
  private backoffMs = 500;
  private retryTimer: NodeJS.Timeout | undefined;
  private connected = false;

  constructor(private readonly o: ListenOptions) {
    o.signal.addEventListener('abort', () => void this.close(), { once: true });
  }

  /** Connect now; on failure keep trying in the background (the caller's periodic check covers the gap). */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.o.signal.aborted) return;
    const client = new pg.Client(this.o.config);
    this.client = client;
    let lost = false;
    const onLost = (err?: Error): void => {
      if (lost) return;
      lost = true;
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      if (this.o.signal.aborted || this.client !== client) return;
      if (this.connected) this.o.log('listen_lost', { channel: this.o.channel, error: err ? errorText(err) : 'connection closed' });
      this.connected = false;
      this.retry();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (msg) => {
      if (msg.channel === this.o.channel) this.o.poke();
    });
    try {
      await client.connect();
      await client.query(`listen ${this.o.channel}`);
    } catch (err) {
      if (!this.connected && !lost) this.o.log('listen_failed', { channel: this.o.channel, error: errorText(err), retry_seconds: this.backoffMs / 1000 });
      onLost(err as Error);
      return;
    }
    if (lost) return;
    this.connected = true;
    this.backoffMs = 500;
    this.o.log('listening', { channel: this.o.channel });
    this.o.poke();
  }

  private retry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.o.maxBackoffMs ?? 30_000);
  }

  async close(): Promise<void> {
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    if (client) await client.end().catch(() => undefined);
  }
}
