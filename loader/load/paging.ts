/**
 * HTTP pulls, the pure parts: the next page (RFC 8288 Link header, or a link in the body), what of a
 * URL may be shown or stored (credentials and secret query values masked), and request headers given
 * on the command line (`Name: value`, `${VAR}` read from the environment).
 */
import { UserError } from '../errors.js';

/** The rel="next" target of a Link header, resolved against the page's URL. */
export function linkNext(header: string | null | undefined, base: string): string | undefined {
  if (!header) return undefined;
  // link-value = "<" URI-Reference ">" *( ";" link-param ); values separated by commas outside <>
  const re = /<([^>]*)>((?:\s*;\s*[^;,"=]+(?:=(?:"[^"]*"|[^;,]*))?)*)/g;
  for (let m; (m = re.exec(header)); ) {
    const params = m[2] ?? '';
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]+))/i.exec(params);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next')) return resolve(m[1]!.trim(), base);
  }
  return undefined;
}

function resolve(ref: string, base: string): string | undefined {
  try {
    return new URL(ref, base).toString();
  } catch {
    return undefined;
  }
}

/** Top-level members of a JSON page that may hold the next page: `next`, `next_url`, `links.next`, `paging.next`. */
export function bodyNext(key: string, value: unknown, base: string): string | undefined {
  const k = key.toLowerCase();
  if ((k === 'next' || k === 'next_url') && typeof value === 'string' && value.trim()) return resolve(value.trim(), base);
  if ((k === 'links' || k === 'paging') && value && typeof value === 'object' && !Array.isArray(value)) {
    const next = (value as Record<string, unknown>).next;
    if (typeof next === 'string' && next.trim()) return resolve(next.trim(), base);
  }
  return undefined;
}

/** Query keys whose values are masked (compared lowercased, `-` as `_`), and the words that make any key secret. */
const SECRET_KEYS = new Set(['key', 'sig', 'auth', 'pass', 'pwd', 'code', 'session', 'sessionid', 'apikey', 'jwt']);
const SECRET_WORDS = /token|secret|passw|signature|api_key|access_key|private|credential|auth/;

export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/-/g, '_');
  return SECRET_KEYS.has(k) || SECRET_WORDS.test(k) || k.endsWith('_key');
}

/**
 * A URL safe to print and store: userinfo (`user:pass@`) removed, the values of secret query
 * parameters replaced by `***`; everything else exactly as given.
 */
export function maskUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*@)?([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(url);
  if (!m) return url;
  const query = m[4]
    ? '?' +
      m[4]
        .slice(1)
        .split('&')
        .map((pair) => {
          const eq = pair.indexOf('=');
          const rawKey = eq < 0 ? pair : pair.slice(0, eq);
          let key = rawKey;
          try {
            key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
          } catch {
            /* keep it raw */
          }
          return eq >= 0 && isSecretKey(key) ? `${rawKey}=***` : pair;
        })
        .join('&')
    : '';
  return `${m[1]}${m[3]}${query}${m[5] ?? ''}`;
}

/** `Name: value` → [name, value] with `${VAR}` from env; a bad header or an unset variable is a usage error. */
export function parseHeader(spec: string, env: NodeJS.ProcessEnv): [string, string] {
  const colon = spec.indexOf(':');
  const name = colon < 0 ? '' : spec.slice(0, colon).trim();
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UserError(`--header must be "Name: value", got a header without a valid name`);
  const value = spec.slice(colon + 1).trim().replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, v: string) => {
    const x = env[v];
    if (x === undefined || x === '') throw new UserError(`--header ${name}: the environment variable ${v} is not set`);
    return x;
  });
  if (/[\r\n\0]/.test(value)) throw new UserError(`--header ${name}: the value holds a line break or NUL`);
  return [name, value];
}
