/**
 * One HTTP GET of a pull, with the robustness rules: a timeout (the longest wait for the response
 * headers, or for the next bytes of the body), retries with exponential backoff on 429, 5xx and
 * connections that fail before the response starts (Retry-After honoured, up to 120 s), bounded by
 * `retries`; any other 4xx fails at once. Header values are sent, never shown: errors name the
 * status and the masked URL only. A connection dropped mid-body fails the pull (its bytes are
 * already staged in the pull's COPY: the pull is then rolled back whole, and a rerun loads it whole).
 */
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';

import { LoadError } from './errors.js';
import { maskUrl } from './paging.js';

export interface HttpOptions {
  headers: [string, string][];
  /** per request: the longest wait for headers or for the next body bytes (default 30) */
  timeoutSeconds: number;
  /** retries after the first attempt (default 3) */
  retries: number;
  /** pages per pull at most (default 10000) */
  maxPages: number;
  /** first backoff in ms, doubled per retry (default 500) */
  backoffMs: number;
}

export const HTTP_DEFAULTS: HttpOptions = { headers: [], timeoutSeconds: 30, retries: 3, maxPages: 10000, backoffMs: 500 };

export interface Response1 {
  url: string;
  status: number;
  contentType?: string;
  link?: string;
  size?: number;
  body: AsyncIterable<Buffer>;
}

const MAX_RETRY_AFTER = 120;

/** Retry-After as seconds (delta or HTTP date), or undefined. */
export function retryAfterSeconds(v: string | null, now = Date.now()): number | undefined {
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, (t - now) / 1000);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

function causeOf(err: unknown): string {
  const e = err as { cause?: { code?: string; message?: string }; message?: string };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

export async function get(url: string, opt: HttpOptions, signal?: AbortSignal): Promise<Response1> {
  const shown = maskUrl(url);
  for (let attempt = 0; ; attempt++) {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let timer = setTimeout(() => ctl.abort(), opt.timeoutSeconds * 1000);
    let failure: string;
    let wait: number | undefined;
    try {
      const res = await fetch(url, { headers: opt.headers, redirect: 'follow', signal: ctl.signal });
      if (res.ok && res.body) {
        const rearm = () => {
          clearTimeout(timer);
          timer = setTimeout(() => ctl.abort(), opt.timeoutSeconds * 1000);
        };
        const length = Number(res.headers.get('content-length') ?? NaN);
        return {
          url: res.url || url,
          status: res.status,
          contentType: res.headers.get('content-type') ?? undefined,
          link: res.headers.get('link') ?? undefined,
          size: Number.isFinite(length) ? length : undefined,
          body: bodyChunks(Readable.fromWeb(res.body as ReadableStream<Uint8Array>), rearm, () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
          }, shown, ctl.signal),
        };
      }
      clearTimeout(timer);
      await res.body?.cancel().catch(() => undefined);
      failure = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} from ${shown}`;
      if (res.status !== 429 && res.status < 500) throw new LoadError(failure);
      wait = retryAfterSeconds(res.headers.get('retry-after'));
    } catch (err) {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err instanceof LoadError) throw err;
      if (signal?.aborted) throw new LoadError(`cancelled while fetching ${shown}`);
      failure = ctl.signal.aborted ? `no response from ${shown} within ${opt.timeoutSeconds}s` : `cannot fetch ${shown}: ${causeOf(err)}`;
    }
    signal?.removeEventListener('abort', onAbort);
    if (attempt >= opt.retries) throw new LoadError(`${failure} (after ${attempt + 1} attempt${attempt ? 's' : ''})`);
    const backoff = opt.backoffMs * 2 ** attempt;
    await sleep(Math.min(MAX_RETRY_AFTER, wait ?? 0) * 1000 > backoff ? Math.min(MAX_RETRY_AFTER, wait!) * 1000 : backoff, signal);
  }
}

async function* bodyChunks(body: Readable, rearm: () => void, done: () => void, shown: string, aborted: AbortSignal): AsyncGenerator<Buffer> {
  let bytes = 0;
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      rearm();
      bytes += chunk.length;
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    }
  } catch (err) {
    if (aborted.aborted) throw new LoadError(`${shown}: no data for the timeout after ${bytes} bytes of the body`);
    throw new LoadError(`${shown}: connection dropped after ${bytes} bytes of the body (${causeOf(err)})`);
  } finally {
    done();
    body.destroy();
  }
}
