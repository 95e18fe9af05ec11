/** `load` command-line arguments (pure): one parse function, easy to extend. */
import { parseArgs } from 'node:util';

import { UserError } from '../errors.js';
import { HTTP_DEFAULTS, type HttpOptions } from './http.js';
import { parseHeader } from './paging.js';
import { FORMATS, type Format } from './sniff.js';

export interface LoadArgs {
  sources: string[];
  jobs?: number;
  force: boolean;
  json: boolean;
  quiet: boolean;
  help: boolean;
  format?: Format;
  http: HttpOptions;
}

export const loadUsage = `usage: npm run load -- [options] [source ...]

  source        a CSV, JSON Lines (.jsonl/.ndjson) or JSON (.json) file, plain or gzip; a directory
                (its .csv/.json/.jsonl/.ndjson files and their .gz, in name order); an http(s):// URL
                (a JSON API's pages are followed: Link rel="next", or next/next_url/links.next/paging.next
                in the body); or - for stdin. None: the bundled dataset (data/online-retail/by-day)
  -j, --jobs N  files loaded at once, each over its own connections (default: the CPU count)
  --force       load again files whose bytes are already loaded, replacing the earlier load
  --format F    csv, jsonl or json (default: from the content, the first non-blank byte after gzip)
  --header 'NAME: VALUE'
                an HTTP request header for URL sources (repeatable); \${VAR} is read from the
                environment, e.g. --header 'Authorization: Bearer \${SHOP_TOKEN}'. Never printed or stored
  --timeout-seconds N
                URL sources: the longest wait for a response or for its next bytes (default ${HTTP_DEFAULTS.timeoutSeconds})
  --retries N   URL sources: retries on 429, 5xx and failed connections, with backoff (default ${HTTP_DEFAULTS.retries})
  --max-pages N a pull with more pages fails (default ${HTTP_DEFAULTS.maxPages})
  --json        print a machine-readable summary (JSON) on stdout
  -q, --quiet   print only errors
  --watch DIR   service mode: load every complete file that appears in DIR, until SIGTERM
                (with --json: one JSON log line per event; see README, Running as services)
  -h, --help    this help`;

function whole(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isInteger(x) || x < min || x > max) throw new UserError(`--${name} must be a whole number from ${min} to ${max}, got "${v}"`);
  return x;
}

export function parseLoadArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): LoadArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        jobs: { type: 'string', short: 'j' },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', short: 'q', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        format: { type: 'string' },
        header: { type: 'string', multiple: true, default: [] },
        'timeout-seconds': { type: 'string' },
        retries: { type: 'string' },
        'max-pages': { type: 'string' },
      },
    });
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n${loadUsage}`);
  }
  const { values, positionals } = parsed;
  const jobs = whole('jobs', values.jobs, 1, 64);
  if (values.format !== undefined && !(FORMATS as string[]).includes(values.format)) {
    throw new UserError(`--format must be one of ${FORMATS.join(', ')}, got "${values.format}"`);
  }
  const http: HttpOptions = {
    ...HTTP_DEFAULTS,
    headers: (values.header ?? []).map((h) => parseHeader(h, env)),
    timeoutSeconds: whole('timeout-seconds', values['timeout-seconds'], 1, 3600) ?? HTTP_DEFAULTS.timeoutSeconds,
    retries: whole('retries', values.retries, 0, 20) ?? HTTP_DEFAULTS.retries,
    maxPages: whole('max-pages', values['max-pages'], 1, 10_000_000) ?? HTTP_DEFAULTS.maxPages,
  };
  return { sources: positionals, jobs, force: values.force, json: values.json, quiet: values.quiet, help: values.help, format: values.format as Format | undefined, http };
}
