/** Paginated HTTP pulls (contract §1b, §2) from a node:http server on 127.0.0.1, into a real PostgreSQL. */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { openDatabase, type Database } from '../loader/db.js';
import { loadSources, type LoadOptions } from '../loader/load/index.js';
import { freshDatabase, type TestDatabase } from './support/db.js';
import { expectAccounted, loads, runLoad } from './support/load.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let db: TestDatabase;
let database: Database;
let server: Server;
let base: string;
const routes = new Map<string, Handler>();
const hits: string[] = [];
const auth: (string | undefined)[] = [];
const shopKeys: (string | undefined)[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  database = await openDatabase({ env: db.env, migrate: false });
  server = createServer((req, res) => {
    hits.push(req.url!);
    auth.push(req.headers.authorization);
    shopKeys.push(req.headers['x-shop-key'] as string | undefined);
    const h = routes.get(req.url!);
    if (h) h(req, res);
    else res.writeHead(404).end('no such page');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await database.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
afterEach(async () => {
  routes.clear();
  hits.length = 0;
  auth.length = 0;
  shopKeys.length = 0;
  await expectAccounted(db);
});

const fast: LoadOptions = { http: { backoffMs: 5 } };
const rec = (n: number) => ({ InvoiceNo: `5500${n}`, StockCode: 'S1', Description: `ITEM ${n}`, Quantity: n, InvoiceDate: '2011-12-01 09:00:00', UnitPrice: 2.50, CustomerID: 13000 + n, Country: 'Spain' });
const recs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => rec(from + k));

/** Route a page: its body, and headers (e.g. Link). */
function page(path: string, body: string, headers: Record<string, string> = {}): string {
  routes.set(path, (_req, res) => res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(body));
  return body;
}

async function stagedOf(loadId: number) {
  const { rows } = await db.pool.query<{ line_no: number; invoice_no: string; quantity: string; unit_price: string }>(
    'select line_no, invoice_no, quantity, unit_price from staging.transactions where load_id = $1 order by line_no',
    [loadId],
  );
  return rows;
}
const expectRows = (from: number, to: number) =>
  recs(from, to).map((r, k) => ({ line_no: k + 1, invoice_no: r.InvoiceNo, quantity: String(r.Quantity), unit_price: '2.5' }));

const sha = (parts: string[]) => createHash('sha256').update(parts.join('')).digest('hex');
const size = (parts: string[]) => parts.reduce((n, p) => n + Buffer.byteLength(p), 0);

describe('pagination', () => {
  it('follows Link rel="next" headers to the last page; sha256 and byte size cover every page; an unchanged pull is skipped', async () => {
    const bodies = [
      page('/orders?since=2011-12-01', JSON.stringify(recs(1, 2)), { link: `<${base}/orders?since=2011-12-01&page=2>; rel="next", <${base}/orders?since=2011-12-01&page=3>; rel="last"` }),
      page('/orders?since=2011-12-01&page=2', JSON.stringify(recs(3, 4)), { link: '</orders?since=2011-12-01&page=3>; rel="next"' }),
      page('/orders?since=2011-12-01&page=3', JSON.stringify(recs(5, 5)), { link: '</orders?since=2011-12-01&page=1>; rel="first"' }),
    ];
    const url = `${base}/orders?since=2011-12-01`;
    const [r] = await loadSources(database, [url], fast);
    expect(r).toMatchObject({ status: 'loaded', rowsRead: 5, rowsStaged: 5, rowsRejected: 0 });
    expect(await stagedOf(r!.loadId!)).toEqual(expectRows(1, 5));
    const { rows } = await db.pool.query('select source, sha256, byte_size from meta.loads where load_id = $1', [r!.loadId]);
    expect(rows[0]).toEqual({ source: url, sha256: sha(bodies), byte_size: size(bodies) });
    const [again] = await loadSources(database, [url], fast);
    expect(again).toMatchObject({ status: 'skipped', loadId: r!.loadId, message: `already loaded as load ${r!.loadId}` });
  });

  it('follows a next link in the body (next, next_url, links.next, paging.next; relative or absolute) and stops at a null one', async () => {
    page('/b', JSON.stringify({ data: recs(1, 1), next: '/b2' }));
    page('/b2', JSON.stringify({ next_url: `${base}/b3`, data: recs(2, 2) }));
    page('/b3', JSON.stringify({ data: recs(3, 3), links: { self: '/b3', next: 'b4' } }));
    page('/b4', JSON.stringify({ paging: { next: '/b5' }, data: recs(4, 4) }));
    page('/b5', JSON.stringify({ data: recs(5, 6), next: null, paging: { next: null } }));
    const [r] = await loadSources(database, [`${base}/b`], fast);
    expect(r).toMatchObject({ status: 'loaded', rowsStaged: 6 });
    expect(await stagedOf(r!.loadId!)).toEqual(expectRows(1, 6));
    expect(hits).toEqual(['/b', '/b2', '/b3', '/b4', '/b5']);
  });

  it('fails a page loop and a pull over --max-pages, saying so; nothing staged', async () => {
    page('/loop1', JSON.stringify({ data: recs(1, 1), next: '/loop2' }));
    page('/loop2', JSON.stringify({ data: recs(2, 2), next: '/loop1' }));
    const [loop] = await loadSources(database, [`${base}/loop1`], fast);
    expect(loop).toMatchObject({ status: 'failed', error: `page loop: page 2 (${base}/loop2) links to ${base}/loop1, which was already fetched` });
    const [cap] = await loadSources(database, [`${base}/loop1`], { http: { maxPages: 1 } });
    expect(cap).toMatchObject({ status: 'failed', error: `more than 1 pages (--max-pages 1); next was ${base}/loop2` });
    const { rows } = await db.pool.query('select count(*)::int as n from staging.transactions where load_id = any($1)', [[loop!.loadId, cap!.loadId]]);
    expect(rows[0].n).toBe(0);
  });
});

describe('robustness', () => {
  it('waits out a 429 with Retry-After, then loads', async () => {
    let calls = 0;
    routes.set('/busy', (_req, res) => {
      if (calls++ === 0) res.writeHead(429, { 'retry-after': '1' }).end('slow down');
      else res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(recs(1, 3).map((x) => JSON.stringify(x)).join('\n') + '\n');
    });
    const [r] = await loadSources(database, [`${base}/busy`], fast);
    expect(r).toMatchObject({ status: 'loaded', rowsStaged: 3 });
    expect(hits).toEqual(['/busy', '/busy']);
  });

  it('retries a connection closed before the response, and gives up on one that never answers within --timeout-seconds', async () => {
    let calls = 0;
    routes.set('/flaky', (req, res) => {
      if (calls++ === 0) return void req.socket.destroy();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(recs(1, 1)));
    });
    const [r] = await loadSources(database, [`${base}/flaky`], fast);
    expect(r).toMatchObject({ status: 'loaded', rowsStaged: 1 });
    expect(hits).toEqual(['/flaky', '/flaky']);
    routes.set('/silent', () => undefined);
    const [t] = await loadSources(database, [`${base}/silent`], { http: { backoffMs: 5, retries: 1, timeoutSeconds: 1 } });
    expect(t).toMatchObject({ status: 'failed', error: 'no response within 1s after 2 attempts' });
    expect(hits.filter((h) => h === '/silent').length).toBe(2);
  });

  it('a 500 that persists on page 2 fails the pull after the retries, with status and URL; nothing staged', async () => {
    page('/p1', JSON.stringify({ data: recs(1, 2), next: '/p2' }));
    routes.set('/p2', (_req, res) => res.writeHead(500).end('boom'));
    const [r] = await loadSources(database, [`${base}/p1`], { http: { backoffMs: 5, retries: 2 } });
    expect(r).toMatchObject({ status: 'failed', error: `HTTP 500 Internal Server Error after 3 attempts (page 2: ${base}/p2)` });
    expect(hits).toEqual(['/p1', '/p2', '/p2', '/p2']);
    const row = (await loads(db)).find((l) => l.load_id === r!.loadId);
    expect(row).toMatchObject({ status: 'failed' });
  });

  it('another 4xx fails at once, one line naming the status', async () => {
    const run = await runLoad(db, [`${base}/gone`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`load: ${base}/gone: HTTP 404 Not Found\n`);
    expect(hits).toEqual(['/gone']);
  });

  it('a connection dropped on a middle page leaves nothing; the rerun loads every page, once', async () => {
    let drop = true;
    page('/d1', recs(1, 2).map((x) => JSON.stringify(x)).join('\n') + '\n', { link: '</d2>; rel="next"', 'content-type': 'application/x-ndjson' });
    const d2 = recs(3, 4).map((x) => JSON.stringify(x)).join('\n') + '\n';
    routes.set('/d2', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson', link: '</d3>; rel="next"', 'content-length': String(d2.length) });
      if (!drop) return res.end(d2);
      res.write(d2.slice(0, 30));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    page('/d3', JSON.stringify(rec(5)) + '\n', { 'content-type': 'application/x-ndjson' });
    const [failed] = await loadSources(database, [`${base}/d1`], fast);
    expect(failed!.status).toBe('failed');
    expect(failed!.error).toMatch(new RegExp(`^connection dropped after \\d+ bytes of the body \\(.*\\) \\(page 2: ${base}/d2\\)$`));
    expect((await db.pool.query('select count(*)::int as n from staging.transactions where load_id = $1', [failed!.loadId])).rows[0].n).toBe(0);
    expect((await loads(db)).find((l) => l.load_id === failed!.loadId)).toMatchObject({ status: 'failed' });
    drop = false;
    const [r] = await loadSources(database, [`${base}/d1`], fast);
    expect(r).toMatchObject({ status: 'loaded', rowsStaged: 5 });
    // JSON Lines pages: line numbers go on from page to page
    expect((await stagedOf(r!.loadId!)).map((x) => [x.line_no, x.invoice_no])).toEqual(recs(1, 5).map((x, k) => [k + 1, x.InvoiceNo]));
    const [again] = await loadSources(database, [`${base}/d1`], fast);
    expect(again!.status).toBe('skipped');
    const { rows } = await db.pool.query(
      `select count(*)::int as n from staging.transactions join meta.loads using (load_id) where source = $1 and status = 'complete'`,
      [`${base}/d1`],
    );
    expect(rows[0].n).toBe(5);
  });
});

describe('credentials', () => {
  it('sends --header with ${VAR} from the environment; the token is in no output, table or log; secret query values are masked', async () => {
    const token = 'tok-3f9a1c77e2b54d1e';
    const key = 'key-88d1f0aa51c2';
    const guard = (body: string, next?: string): Handler => (req, res) => {
      if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end();
      res.writeHead(200, { 'content-type': 'application/json', ...(next ? { link: `<${next}>; rel="next"` } : {}) }).end(body);
    };
    routes.set(`/secure?since=2011-12-01&api_key=${key}`, guard(JSON.stringify(recs(1, 1)), `/secure?page=2&access_token=${key}`));
    routes.set(`/secure?page=2&access_token=${key}`, guard(JSON.stringify(recs(2, 2))));
    routes.set(`/secure?page=3&token=${key}`, (_req, res) => res.writeHead(403).end(`forbidden ${token}`));
    const url = `http://user:${key}@127.0.0.1:${new URL(base).port}/secure?since=2011-12-01&api_key=${key}`;
    const env = { SHOP_TOKEN: token };
    const ok = await runLoad(db, ['--header', 'Authorization: Bearer ${SHOP_TOKEN}', '--json', url], { env });
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    const masked = `${base}/secure?since=2011-12-01&api_key=***`;
    expect(JSON.parse(ok.stdout).results[0]).toMatchObject({ source: masked, status: 'loaded', rowsStaged: 2 });
    const bad = await runLoad(db, ['--header', 'Authorization: Bearer ${SHOP_TOKEN}', `${base}/secure?page=3&token=${key}`], { env });
    expect(bad.stderr).toBe(`load: ${base}/secure?page=3&token=***: HTTP 403 Forbidden\n`);
    // a next link to another origin (localhost is not 127.0.0.1) is fetched without the headers
    routes.set('/elsewhere', (req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: recs(3, 3), next: `http://localhost:${new URL(base).port}/other` })));
    routes.set('/other', (req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: recs(4, 4) })));
    const away = await runLoad(db, ['--header', 'Authorization: Bearer ${SHOP_TOKEN}', `${base}/elsewhere`], { env });
    expect([away.code, away.stderr]).toEqual([0, '']);
    expect(auth.slice(-2)).toEqual([`Bearer ${token}`, undefined]);
    // so is a redirect there
    routes.set('/moved', (_req, res) => res.writeHead(302, { location: `http://localhost:${new URL(base).port}/other` }).end());
    const redirected = await runLoad(db, ['--header', 'Authorization: Bearer ${SHOP_TOKEN}', '--header', 'X-Shop-Key: ${SHOP_TOKEN}', `${base}/moved`], { env });
    expect([redirected.code, redirected.stderr]).toEqual([0, '']);
    expect(hits.slice(-2)).toEqual(['/moved', '/other']);
    expect(auth.slice(-2)).toEqual([`Bearer ${token}`, undefined]);
    expect(shopKeys.slice(-2)).toEqual([token, undefined]);
    const unset = await runLoad(db, ['--header', 'Authorization: Bearer ${NO_SUCH_VAR_11}', url]);
    expect([unset.code, unset.stderr]).toEqual([2, 'load: --header Authorization: the environment variable NO_SUCH_VAR_11 is not set\n']);
    expect(auth.filter((a) => a === `Bearer ${token}`).length).toBe(5);
    const everything = [ok.stdout, ok.stderr, bad.stdout, bad.stderr, away.stdout, away.stderr, redirected.stdout, redirected.stderr, unset.stdout, unset.stderr];
    for (const table of ['meta.loads', 'staging.transactions', 'staging.load_rejects']) {
      const { rows } = await db.pool.query(`select t::text as row from ${table} as t`);
      everything.push(...rows.map((r) => r.row as string));
    }
    const { rows: logs } = await db.pool.query(`select coalesce(string_agg(query, ' '), '') as q from pg_stat_activity`);
    everything.push(logs[0].q);
    expect(everything.filter((s) => s.includes(token) || s.includes(key))).toEqual([]);
    expect((await loads(db)).map((l) => l.source).filter((s) => s.includes('secure'))).toEqual([masked]);
  });
});
