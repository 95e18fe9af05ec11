/**
 * A pull: the pages of one HTTP source, fetched one after another, as one stream of bytes for the
 * ledger (sha256 and byte size over every page's body in order) and one page at a time for the parser.
 * The next page is the Link header's rel="next", else the body's next link; a URL seen twice (a loop)
 * and more than maxPages pages are errors.
 */
import { createHash } from 'node:crypto';

import { LoadError } from './errors.js';
import { get, type HttpOptions } from './http.js';
import { linkNext, maskUrl } from './paging.js';

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

export interface Page {
  url: string;
  number: number;
  contentType?: string;
  size?: number;
  chunks: AsyncIterable<Buffer>;
}

export class Pull {
  private readonly hash = createHash('sha256');
  private readonly seen = new Set<string>();
  bytes = 0;
  private current: (Page & { link?: string }) | undefined;

  constructor(
    private readonly url: string,
    private readonly opt: HttpOptions,
    private readonly signal?: AbortSignal,
  ) {}

  /** An error of page n names the page and its URL (page 1 is the source itself, named already). */
  private named(err: unknown, n: number, url: string): unknown {
    if (!(err instanceof LoadError) || n === 1) return err;
    return new LoadError(`${err.message} (page ${n}: ${maskUrl(url)})`);
  }

  private async fetch(url: string): Promise<Page> {
    this.seen.add(url);
    const n = this.seen.size;
    // the --header values go to the source's origin only: a next link elsewhere gets none (no token leaves for another host)
    const opt = originOf(url) === originOf(this.url) ? this.opt : { ...this.opt, headers: [] };
    const res = await get(url, opt, this.signal).catch((err: unknown) => {
      throw this.named(err, n, url);
    });
    const self = this;
    async function* tapped(): AsyncGenerator<Buffer> {
      try {
        for await (const chunk of res.body) {
          self.hash.update(chunk);
          self.bytes += chunk.length;
          yield chunk;
        }
      } catch (err) {
        throw self.named(err, n, url);
      }
    }
    this.current = { url: res.url, number: this.seen.size, contentType: res.contentType, size: res.size, link: res.link, chunks: tapped() };
    return this.current;
  }

  first(): Promise<Page> {
    return this.fetch(this.url);
  }

  /** The page after the current one (read to its end), or undefined when it was the last. */
  async next(bodyNext: string | undefined): Promise<Page | undefined> {
    const cur = this.current!;
    const next = linkNext(cur.link, cur.url) ?? bodyNext;
    if (next === undefined) return undefined;
    if (this.seen.has(next)) throw new LoadError(`page loop: page ${cur.number} (${maskUrl(cur.url)}) links to ${maskUrl(next)}, which was already fetched`);
    if (this.seen.size >= this.opt.maxPages) throw new LoadError(`more than ${this.opt.maxPages} pages (--max-pages ${this.opt.maxPages}); next was ${maskUrl(next)}`);
    return this.fetch(next);
  }

  /** Let go of the page being read (after a failure). */
  async close(): Promise<void> {
    await this.current?.chunks[Symbol.asyncIterator]().return?.(undefined);
  }

  sha256(): string {
    return this.hash.digest('hex');
  }
}
