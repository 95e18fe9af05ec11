/** The loader on a real PostgreSQL: contract §1-2, from hand-written fixtures. */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { openDatabase, type Database } from '../loader/db.js';
import { loadSources } from '../loader/load/index.js';
import { projectRoot } from '../loader/paths.js';
import { freshDatabase, type TestDatabase } from './support/db.js';
import { expectAccounted, loads, runLoad } from './support/load.js';

const fixtures = join(projectRoot, 'tests', 'fixtures', 'load');
const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
const columns = 'invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country';

let db: TestDatabase;
let database: Database;
let dir: string;

beforeAll(async () => {
  db = await freshDatabase();
  database = await openDatabase({ env: db.env, migrate: false });
  dir = mkdtempSync(join(tmpdir(), 'load-test-'));
});
afterAll(async () => {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => expectAccounted(db));

function file(name: string, bytes: Buffer | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

async function staged(loadId: number): Promise<Record<string, string | null>[]> {
  const { rows } = await db.pool.query(`select line_no, ${columns} from staging.transactions where load_id = $1 order by line_no`, [loadId]);
  return rows;
}

async function rejects(loadId: number) {
  const { rows } = await db.pool.query<{ line_no: number; reason: string; raw: Buffer }>(
    'select line_no, reason, raw from staging.load_rejects where load_id = $1 order by line_no',
    [loadId],
  );
  return rows;
}

describe('records (contract §2)', () => {
  it('stages CRLF, BOM, quoted commas, doubled quotes and quoted newlines verbatim', async () => {
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(`${HEADER}\r\n`),
      Buffer.from('536365,85123A,"WHITE, HANGING ""HEART""",6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\r\n'),
      Buffer.from('536366,22633,"HAND WARMER\r\nUNION JACK",6,2010-12-01 08:28:00,1.85,,"United Kingdom"\r\n'),
      Buffer.from('536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,2010-12-01 08:34:00,1.69,13047.0,""\r\n'),
    ]);
    const [r] = await loadSources(database, [file('crlf-bom.csv', bytes)]);
    expect(r).toMatchObject({ status: 'loaded', rowsRead: 3, rowsStaged: 3, rowsRejected: 0 });
    expect(await staged(r!.loadId!)).toEqual([
      { line_no: 2, invoice_no: '536365', stock_code: '85123A', description: 'WHITE, HANGING "HEART"', quantity: '6', invoice_date: '2010-12-01 08:26:00', unit_price: '2.55', customer_id: '17850.0', country: 'United Kingdom' },
      { line_no: 3, invoice_no: '536366', stock_code: '22633', description: 'HAND WARMER\r\nUNION JACK', quantity: '6', invoice_date: '2010-12-01 08:28:00', unit_price: '1.85', customer_id: null, country: 'United Kingdom' },
      { line_no: 5, invoice_no: '536367', stock_code: '84879', description: 'ASSORTED COLOUR BIRD ORNAMENT', quantity: '32', invoice_date: '2010-12-01 08:34:00', unit_price: '1.69', customer_id: '13047.0', country: '' },
    ]);
  });

  it('rejects each kind of bad record with its line, reason and exact raw bytes, and loads the rest', async () => {
    const big = 'A'.repeat(1024 * 1024 + 10);
    const bytes = Buffer.concat([
      Buffer.from(`${HEADER}\n`), // 1
      Buffer.from('1,A,GOOD,1,2011-01-01 10:00:00,1.00,1,UK\n'), // 2
      Buffer.from('2,B,TOO FEW,1,2011-01-01 10:00:00,1.00,UK\n'), // 3 field_count
      Buffer.from('3,C,BAD '), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(',1,2011-01-01 10:00:00,1.00,1,UK\n'), // 4 invalid_utf8
      Buffer.from('4,D,NUL\u0000BYTE,1,2011-01-01 10:00:00,1.00,1,UK\n'), // 5 nul_byte
      Buffer.from('5,E,"TWO\nLINES",1,2011-01-01 10:00:00,1.00,1,UK\n'), // 6-7 good
      Buffer.from(`6,F,${big},1,2011-01-01 10:00:00,1.00,1,UK\n`), // 8 record_too_large
      Buffer.from('7,G,GOOD AGAIN,1,2011-01-01 10:00:00,1.00,1,UK\n'), // 9
      Buffer.from('8,H,"NEVER CLOSED,1,2011-01-01 10:00:00,1.00,1,UK\n9,I,X,1,2011-01-01 10:00:00,1.00,1,UK\n'), // 10-11 unterminated_quote
    ]);
    const [r] = await loadSources(database, [file('rejects.csv', bytes)]);
    expect(r).toMatchObject({ status: 'loaded', rowsRead: 8, rowsStaged: 3, rowsRejected: 5 });
    expect((await staged(r!.loadId!)).map((s) => [s.line_no, s.description])).toEqual([
      [2, 'GOOD'],
      [6, 'TWO\nLINES'],
      [9, 'GOOD AGAIN'],
    ]);
    const rej = await rejects(r!.loadId!);
    expect(rej.map((x) => [x.line_no, x.reason])).toEqual([
      [3, 'field_count'],
      [4, 'invalid_utf8'],
      [5, 'nul_byte'],
      [8, 'record_too_large'],
      [10, 'unterminated_quote'],
    ]);
    expect(rej[1]!.raw).toEqual(Buffer.concat([Buffer.from('3,C,BAD '), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(',1,2011-01-01 10:00:00,1.00,1,UK')]));
    expect(rej[2]!.raw).toEqual(Buffer.from('4,D,NUL\u0000BYTE,1,2011-01-01 10:00:00,1.00,1,UK'));
    expect(rej[3]!.raw).toEqual(Buffer.from(`6,F,${big}`).subarray(0, 65536));
    expect(rej[4]!.raw.toString()).toBe('8,H,"NEVER CLOSED,1,2011-01-01 10:00:00,1.00,1,UK\n9,I,X,1,2011-01-01 10:00:00,1.00,1,UK\n');
  });
});

describe('headers (contract §1)', () => {
  it('loads the Online Retail II header, and another order with extra columns (said once)', async () => {
    const notes: string[] = [];
    const [ii, extras] = await loadSources(database, [join(fixtures, 'online-retail-ii.csv'), join(fixtures, 'reordered-extras.csv')], {
      jobs: 1,
      onEvent: (e) => e.type === 'note' && notes.push(`${e.source}: ${e.message}`),
    });
    expect(ii).toMatchObject({ status: 'loaded', rowsStaged: 3 });
    expect((await staged(ii!.loadId!))[2]).toEqual({
      line_no: 4, invoice_no: 'C489449', stock_code: '22087', description: 'PAPER BUNTING WHITE LACE', quantity: '-12',
      invoice_date: '2009-12-01 10:33:00', unit_price: '2.95', customer_id: '16321', country: 'Australia',
    });
    expect(extras).toMatchObject({ status: 'loaded', rowsStaged: 2 });
    expect(await staged(extras!.loadId!)).toEqual([
      { line_no: 2, invoice_no: '540001', stock_code: '22000', description: 'RED, WHITE AND BLUE', quantity: '3', invoice_date: '2011-01-02 10:00:00', unit_price: '1.25', customer_id: '12345', country: 'France' },
      { line_no: 3, invoice_no: 'C540002', stock_code: '22001', description: 'PLAIN', quantity: '-1', invoice_date: '2011-01-02 11:00:00', unit_price: '0.85', customer_id: null, country: 'Germany' },
    ]);
    expect(notes).toEqual([`${join(fixtures, 'reordered-extras.csv')}: extra columns ignored: Channel, Notes`]);
  });

  it('refuses a file missing columns: one line naming file and columns, nothing written, exit 1', async () => {
    const before = await loads(db);
    const good = join(fixtures, 'online-retail-ii.csv');
    const bad = join(fixtures, 'missing-columns.csv');
    const run = await runLoad(db, [bad, good]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`load: ${bad}: line 1: missing columns description, unit_price, country\n`);
    const after = await loads(db);
    expect(after.filter((l) => l.source === bad)).toEqual([]);
    expect(after.length).toBe(before.length); // online-retail-ii.csv was loaded by the test above: skipped
    expect(run.stdout).toContain(`skipped  ${good}: already loaded as load`);
  });

  it('loads a header-only file as 0 rows and an empty file as an empty load', async () => {
    const results = await loadSources(database, [join(fixtures, 'header-only.csv'), join(fixtures, 'empty.csv')], { jobs: 1 });
    expect(results.map((r) => [r.status, r.rowsRead, r.rowsStaged, r.rowsRejected])).toEqual([
      ['loaded', 0, 0, 0],
      ['loaded', 0, 0, 0],
    ]);
    const rows = (await loads(db)).filter((l) => results.some((r) => r.loadId === l.load_id));
    expect(rows.map((l) => l.status)).toEqual(['complete', 'complete']);
  });
});

describe('sources', () => {
  const csv = (tag: string) => `${HEADER}\n${tag},A,X,1,2011-01-01 10:00:00,1.00,1,UK\n${tag},B,Y,2,2011-01-01 10:00:00,2.00,,UK\n`;

  it('reads gzip by its magic bytes (whatever the name) and a directory in name order', async () => {
    const sub = join(dir, 'inbox');
    mkdirSync(sub);
    writeFileSync(join(sub, 'b.csv.gz'), gzipSync(csv('gz-b')));
    writeFileSync(join(sub, 'a.csv'), gzipSync(csv('gz-a'))); // gzip under a .csv name
    writeFileSync(join(sub, 'c.CSV'), csv('plain-c'));
    writeFileSync(join(sub, 'notes.txt'), 'not data');
    const results = await loadSources(database, [sub], { jobs: 1 });
    expect(results.map((r) => [r.source, r.status, r.rowsStaged])).toEqual([
      [join(sub, 'a.csv'), 'loaded', 2],
      [join(sub, 'b.csv.gz'), 'loaded', 2],
      [join(sub, 'c.CSV'), 'loaded', 2],
    ]);
    expect((await staged(results[1]!.loadId!)).map((s) => s.invoice_no)).toEqual(['gz-b', 'gz-b']);
    const { rows } = await db.pool.query('select sha256 from meta.loads where load_id = $1', [results[1]!.loadId]);
    const { createHash } = await import('node:crypto');
    expect(rows[0].sha256).toBe(createHash('sha256').update(readFileSync(join(sub, 'b.csv.gz'))).digest('hex'));
  });

  it('fails a truncated gzip file with a clear reason and leaves nothing of it', async () => {
    const gz = gzipSync(csv('trunc') + 'trunc,C,Z,3,2011-01-01 10:00:00,3.00,2,UK\n'.repeat(5000));
    const path = file('truncated.csv.gz', gz.subarray(0, gz.length - 40));
    const [r] = await loadSources(database, [path]);
    expect(r).toMatchObject({ status: 'failed', error: 'not valid gzip data (unexpected end of file)' });
    const rows = (await loads(db)).filter((l) => l.source === path);
    expect(rows.map((l) => l.status)).toEqual(['failed']);
    expect(await staged(rows[0]!.load_id)).toEqual([]);
  });

  it('reads stdin ("-"), and skips the same bytes on stdin again', async () => {
    const first = await runLoad(db, ['--json', '-'], { input: csv('stdin') });
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout);
    expect(summary.results[0]).toMatchObject({ source: '-', status: 'loaded', rowsStaged: 2 });
    const again = await runLoad(db, ['--json', '-'], { input: csv('stdin') });
    expect(JSON.parse(again.stdout).results[0]).toMatchObject({ status: 'skipped', loadId: summary.results[0].loadId });
    expect((await loads(db)).filter((l) => l.source === '-').map((l) => l.status)).toEqual(['complete']);
  });

  describe('URLs', () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        const body = Buffer.from(csv('url') + 'url,C,Z,3,2011-01-01 10:00:00,3.00,2,UK\n'.repeat(2000));
        if (req.url === '/ok.csv') {
          res.writeHead(200, { 'content-length': body.length });
          res.end(body);
        } else if (req.url === '/drop.csv') {
          res.writeHead(200, { 'content-length': body.length });
          res.write(body.subarray(0, 30000), () => setTimeout(() => res.destroy(), 50));
        } else {
          res.writeHead(404);
          res.end('no');
        }
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const address = server.address() as { port: number };
      base = `http://127.0.0.1:${address.port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('streams a URL; a 404 and a connection dropped mid-body fail that source only, leaving nothing visible', async () => {
      const run = await runLoad(db, ['--jobs', '1', `${base}/drop.csv`, `${base}/missing.csv`, `${base}/ok.csv`]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`^load: ${base}/drop.csv: connection dropped after \\d+ bytes`, 'm'));
      expect(run.stderr).toContain(`load: ${base}/missing.csv: HTTP 404 Not Found\n`);
      const byUrl = (await loads(db)).filter((l) => l.source.startsWith(base));
      expect(byUrl.map((l) => [l.source, l.status])).toEqual([
        [`${base}/drop.csv`, 'failed'],
        [`${base}/ok.csv`, 'complete'],
      ]);
      expect(byUrl[1]!.rows_staged).toBe(2002);
    });
  });
});

describe('command line', () => {
  it('a usage error is one line and exit 2, before anything is loaded', async () => {
    const run = await runLoad(db, ['--jobs', 'many', join(fixtures, 'online-retail-ii.csv')]);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe('load: --jobs must be a whole number from 1 to 64, got "many"');
    expect(run.stderr).not.toMatch(/\bat .*\.js:\d+/);
    const unknown = await runLoad(db, ['--frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^load: Unknown option '--frobnicate'/);
  });
});

describe('once only', () => {
  it('skips bytes already loaded whatever the name; --force replaces the earlier load in one step', async () => {
    const bytes = `${HEADER}\n77,A,ONCE,1,2011-01-01 10:00:00,1.00,1,UK\n77,B,ONLY,1,2011-01-01 10:00:00,1.00,1,UK\n`;
    const [first] = await loadSources(database, [file('once.csv', bytes)]);
    const [renamed] = await loadSources(database, [file('once-renamed.csv', bytes)]);
    expect(renamed).toMatchObject({ status: 'skipped', loadId: first!.loadId, rowsStaged: 0, message: `already loaded as load ${first!.loadId}` });
    const forced = await runLoad(db, ['--force', '--json', join(dir, 'once-renamed.csv')]);
    expect(forced.code).toBe(0);
    const result = JSON.parse(forced.stdout).results[0];
    expect(result).toMatchObject({ status: 'loaded', rowsStaged: 2, replaced: [first!.loadId] });
    const both = (await loads(db)).filter((l) => l.load_id === first!.loadId || l.load_id === result.loadId);
    expect(both.map((l) => [l.status, l.error])).toEqual([
      ['failed', `replaced by load ${result.loadId}`],
      ['complete', null],
    ]);
    expect(await staged(first!.loadId!)).toEqual([]);
    expect((await staged(result.loadId)).map((s) => s.description)).toEqual(['ONCE', 'ONLY']);
  });

  it('two loader processes on the same directory at once stage every file exactly once', async () => {
    const sub = join(dir, 'race');
    mkdirSync(sub);
    let expected = 0;
    for (let f = 0; f < 12; f++) {
      const n = 50 + f * 500;
      expected += n;
      const lines = Array.from({ length: n }, (_, i) => `R${f},S${i},RACE,${i},2011-01-01 10:00:00,1.00,1,UK`);
      writeFileSync(join(sub, `f${String(f).padStart(2, '0')}.csv`), `${HEADER}\n${lines.join('\n')}\n`);
    }
    const [a, b] = await Promise.all([runLoad(db, ['--json', '-j', '2', sub]), runLoad(db, ['--json', '-j', '3', sub])]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, '', '']);
    const results = [...JSON.parse(a.stdout).results, ...JSON.parse(b.stdout).results];
    for (let f = 0; f < 12; f++) {
      const mine = results.filter((r) => r.source === join(sub, `f${String(f).padStart(2, '0')}.csv`));
      expect(mine.map((r) => r.status).sort()).toEqual(['loaded', 'skipped']);
    }
    const race = (await loads(db)).filter((l) => l.source.startsWith(sub));
    expect(race.filter((l) => l.status === 'complete').length).toBe(12);
    const { rows } = await db.pool.query(
      `select count(*)::int as n from staging.transactions t join meta.loads l on l.load_id = t.load_id where l.source like $1 and l.status = 'complete'`,
      [`${sub}%`],
    );
    expect(rows[0].n).toBe(expected);
  });
});
