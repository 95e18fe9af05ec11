/**
 * One HTTP GET of a pull (redirects followed here, the headers kept only within one origin), with the robustness rules: a timeout (the longest wait for the response
 * headers, or for the next bytes of the body), retries with exponential backoff on 429, 5xx and
 * connections that fail before the response starts (Retry-After honoured, up to 120 s), bounded by
 * `retries`; any other 4xx fails at once. Header values are sent, never shown: errors give the
 * status or cause only (pull.ts adds the page and its masked URL). A dropped body fails the pull (its bytes are
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

/** An error's reason, with every URL in it masked and no header value in it (errors are printed and stored). */
function causeOf(err: unknown, opt: HttpOptions): string {
  const e = err as { cause?: { code?: string; message?: string }; message?: string };
  let text = e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
  text = text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]+/gi, (u) => maskUrl(u));
  for (const [, v] of opt.headers) if (v) text = text.split(v).join('***');
  return text;
}

/** userinfo of a URL → the URL without it, and a Basic Authorization header (unless one is given). */
export function splitCredentials(url: string, headers: [string, string][]): { url: string; headers: [string, string][] } {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i.exec(url);
  if (!m) return { url, headers };
  const bare = m[1] + url.slice(m[0].length);
  if (headers.some(([n]) => n.toLowerCase() === 'authorization')) return { url: bare, headers };
  const [user = '', pass = ''] = m[2]!.split(':').map((x) => decodeURIComponent(x));
  return { url: bare, headers: [...headers, ['Authorization', `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`]] };
}

const MAX_REDIRECTS = 10;

/** fetch with redirects followed by hand: the headers go on only while the origin stays the same. */
async function follow(url: string, headers: [string, string][], signal: AbortSignal): Promise<{ res: Response; at: string }> {
  let at = url;
  let hs = headers;
  for (let n = 0; ; n++) {
    const res = await fetch(at, { headers: hs, redirect: 'manual', signal });
    const location = res.headers.get('location');
    if (res.status < 300 || res.status > 399 || res.status === 304 || !location) return { res, at };
    await res.body?.cancel().catch(() => undefined);
    if (n >= MAX_REDIRECTS) throw new LoadError(`more than ${MAX_REDIRECTS} redirects`);
    const next = new URL(location, at).toString();
    if (new URL(next).origin !== new URL(at).origin) hs = [];
    at = next;
  }
}

/** GET one URL. Errors do not name it (the caller knows which page it was). */
export async function get(given: string, opt: HttpOptions, signal?: AbortSignal): Promise<Response1> {
  const { url, headers } = splitCredentials(given, opt.headers);
  for (let attempt = 0; ; attempt++) {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let timer = setTimeout(() => ctl.abort(), opt.timeoutSeconds * 1000);
    let failure: string;
    let wait: number | undefined;
    try {
      const { res, at } = await follow(url, headers, ctl.signal);
      if (res.ok && res.body) {
        const rearm = () => {
          clearTimeout(timer);
          timer = setTimeout(() => ctl.abort(), opt.timeoutSeconds * 1000);
        };
        const length = Number(res.headers.get('content-length') ?? NaN);
        return {
          url: at,
          status: res.status,
          contentType: res.headers.get('content-type') ?? undefined,
          link: res.headers.get('link') ?? undefined,
          size: Number.isFinite(length) ? length : undefined,
          body: bodyChunks(Readable.fromWeb(res.body as ReadableStream<Uint8Array>), rearm, () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
          }, ctl.signal, opt),
        };
      }
      clearTimeout(timer);
      await res.body?.cancel().catch(() => undefined);
      failure = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
      if (res.status !== 429 && res.status < 500) throw new LoadError(failure);
      wait = retryAfterSeconds(res.headers.get('retry-after'));
    } catch (err) {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err instanceof LoadError) throw err;
      if (signal?.aborted) throw new LoadError('cancelled');
      if (!ctl.signal.aborted && !(err as { cause?: unknown }).cause) throw new LoadError(`cannot fetch: ${causeOf(err, opt)}`);
      failure = ctl.signal.aborted ? `no response within ${opt.timeoutSeconds}s` : `cannot fetch: ${causeOf(err, opt)}`;
    }
    signal?.removeEventListener('abort', onAbort);
    if (attempt >= opt.retries) throw new LoadError(`${failure} after ${attempt + 1} attempt${attempt ? 's' : ''}`);
    // exponential backoff, or Retry-After (capped) when that is longer
    const backoff = opt.backoffMs * 2 ** attempt;
    const after = Math.min(MAX_RETRY_AFTER, wait ?? 0) * 1000;
    await sleep(Math.max(backoff, after), signal);
  }
}

async function* bodyChunks(body: Readable, rearm: () => void, done: () => void, aborted: AbortSignal, opt: HttpOptions): AsyncGenerator<Buffer> {
  let bytes = 0;
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      rearm();
      bytes += chunk.length;
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    }
  } catch (err) {
    if (aborted.aborted) throw new LoadError(`no data for ${opt.timeoutSeconds}s after ${bytes} bytes of the body`);
    throw new LoadError(`connection dropped after ${bytes} bytes of the body (${causeOf(err, opt)})`);
  } finally {
    done();
    body.destroy();
  }
}
