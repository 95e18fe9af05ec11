/** The pure parts of JSON and API loading: record parser, framing, format sniffing, links, masking, headers. */
import { describe, expect, it } from 'vitest';

import { JsonDocScanner } from '../loader/load/json-doc.js';
import { RecordParser } from '../loader/load/json-record.js';
import { JsonLinesScanner } from '../loader/load/jsonl.js';
import { bodyNext, linkNext, maskUrl, parseHeader } from '../loader/load/paging.js';
import { hintOf, jsonKind } from '../loader/load/sniff.js';
import { retryAfterSeconds, splitCredentials } from '../loader/load/http.js';
import { isDataFileName } from '../loader/load/source.js';
import { isInboxFile } from '../loader/watch/settle.js';

function csv(json: string): string {
  const p = new RecordParser();
  const b = Buffer.from(json);
  const r = p.parse(b, 0, b.length, 1);
  if (r !== 'ok') return r;
  const out = Buffer.alloc(RecordParser.maxOutput(b.length));
  const o = p.write(out, 0);
  return o < 0 ? String(o) : out.toString('utf8', 1, o);
}

describe('record parser', () => {
  it('writes the eight columns as CSV: NULL unquoted, strings quoted, numbers and booleans as written', () => {
    expect(csv('{"Country":"UK","UnitPrice":12.50,"Quantity":-3,"CustomerID":null,"Description":"","InvoiceNo":"C1","StockCode":true}')).toBe('"C1",true,"",-3,,12.50,,"UK"');
    expect(csv('{"Description":"a\\"b\\\\c\\/d\\u00e9\\ud83d\\ude00\\t,\\r\\n"}')).toBe(',,"a""b\\c/dé😀\t,\r\n",,,,,');
    expect(csv(' { } ')).toBe(',,,,,,,');
  });

  it('tells invalid JSON, a non-object, a nested value, NUL and lone surrogates apart', () => {
    for (const bad of ['{', '{"a":1,}', '{"a":01}', '{"a":1.}', '{"a":"x\ty"}', '{"a":tru}', '{"a":1} x', "{'a':1}", '{"a":"\\x"}', '{"a" 1}']) expect(csv(bad), bad).toBe('invalid_json');
    expect(csv('[1,2]')).toBe('not_object');
    expect(csv('"x"')).toBe('not_object');
    expect(csv('{"Description":{"x":[1,{"y":null}]}}')).toBe('nested_value');
    expect(csv('{"Other":{"x":1},"Country":"UK"}')).toBe(',,,,,,,"UK"'); // nested values of unknown keys are fine
    expect(csv('{"Country":"A\\u0000B"}')).toBe('-2');
    expect(csv('{"Country":"\\ud800"}')).toBe('-1');
  });

  it('fails a record that names one column twice, and remembers keys seen and ignored', () => {
    const p = new RecordParser();
    const b = Buffer.from('{"Invoice":"1","InvoiceNo":"2"}');
    expect(() => p.parse(b, 0, b.length, 9)).toThrow('line 9: keys "Invoice" and "InvoiceNo" both name invoice_no');
    const c = Buffer.from('{"Price":"1","Extra":2,"constructor":3}');
    expect(p.parse(c, 0, c.length, 10)).toBe('ok');
    expect([...p.seen]).toEqual(['unit_price']);
    expect([...p.unknown]).toEqual(['Extra', 'constructor']);
  });
});

describe('framing', () => {
  it('JSON Lines: the same lines and line numbers however the bytes are cut', () => {
    const text = '\ufeff{"a":1}\r\n\n  \n{"b":"x\\ny"}\n{"c":3}';
    const bytes = Buffer.from(text);
    const expected = [[1, '{"a":1}'], [4, '{"b":"x\\ny"}'], [5, '{"c":3}']];
    for (let cut = 1; cut < bytes.length; cut++) {
      const got: [number, string][] = [];
      const s = new JsonLinesScanner({ line: (d, a, e, n) => got.push([n, d.toString('utf8', a, e)]), tooLarge: () => got.push([-1, '']) });
      s.push(bytes.subarray(0, cut));
      s.push(bytes.subarray(cut));
      s.end();
      expect(got, `cut at ${cut}`).toEqual(expected);
    }
  });

  it('documents: the same records and members however the bytes are cut; cut-off and trailing bytes fail', () => {
    const text = ' {"total": 2, "data": [ {"a":"]}"} , {"b":[1,{"c":"\\""}]} ], "links": {"next":"/p2"} } ';
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const got: string[] = [];
      const s = new JsonDocScanner({ record: (d, a, e) => got.push(d.toString('utf8', a, e)), tooLarge: () => got.push('big'), member: (k, v) => got.push(`${k}=${JSON.stringify(v)}`) });
      s.push(bytes.subarray(0, cut));
      s.push(bytes.subarray(cut));
      s.end();
      expect(got, `cut at ${cut}`).toEqual(['total=2', '{"a":"]}"}', '{"b":[1,{"c":"\\""}]}', 'links={"next":"/p2"}']);
      expect(s.recordsKey).toBe('data');
    }
    const run = (t: string) => {
      const s = new JsonDocScanner({ record: () => undefined, tooLarge: () => undefined, member: () => undefined });
      s.push(Buffer.from(t));
      s.end();
    };
    expect(() => run('[{"a":1},')).toThrow(/cut off/);
    expect(() => run('[{"a":1}] x')).toThrow('not valid JSON: content after the end of the document at byte 11');
    expect(() => run('[{"a":1},]')).toThrow(/expected a record/);
    expect(() => run('{"a":1}')).toThrow(/holds no array of records/);
  });

  it('JSON Lines: a line over the limit is record_too_large, its first bytes kept, the next line read', () => {
    const got: string[] = [];
    const s = new JsonLinesScanner({ line: (d, a, e, n) => got.push(`${n}:${d.toString('utf8', a, e)}`), tooLarge: (n, raw) => got.push(`${n}:big:${raw.toString()}`) }, 1, 20, 5);
    for (const c of Buffer.from(`{"a":"${'x'.repeat(40)}"}\n{"b":1}\n{"c":"${'y'.repeat(30)}"}`)) s.push(Buffer.from([c]));
    s.end();
    expect(got).toEqual(['1:big:{"a":', '2:{"b":1}', '3:big:{"c":']);
  });

  it('a record over the limit is record_too_large, with its first bytes kept', () => {
    const big = `{"a":"${'x'.repeat(100)}"}`;
    const kept: string[] = [];
    const s = new JsonDocScanner({ record: (d, a, e) => kept.push(d.toString('utf8', a, e)), tooLarge: (raw) => kept.push(`big:${raw.toString()}`), member: () => undefined }, 50, 10);
    for (const c of Buffer.from(`[${big},{"b":1}]`)) s.push(Buffer.from([c]));
    s.end();
    expect(kept).toEqual([`big:${big.slice(0, 10)}`, '{"b":1}']);
    const whole = new JsonDocScanner({ record: (d, a, e) => kept.push(d.toString('utf8', a, e)), tooLarge: (raw) => kept.push(`big:${raw.toString()}`), member: () => undefined }, 50, 10);
    whole.push(Buffer.from(`[${big},{"b":3}]`));
    whole.end();
    expect(kept.slice(2)).toEqual([`big:${big.slice(0, 10)}`, '{"b":3}']);
    const members: string[] = [];
    const o = new JsonDocScanner({ record: (d, a, e) => members.push(d.toString('utf8', a, e)), tooLarge: () => members.push('big'), member: (k) => members.push(k) }, 50, 10);
    o.push(Buffer.from(`{"blob":"${'z'.repeat(200)}","next":"/p2","data":[{"b":2}]}`));
    o.end();
    expect(members).toEqual(['next', '{"b":2}']);
  });
});

describe('format', () => {
  it('tells JSON Lines from a document by name, Content-Type, then by the first line', () => {
    expect([hintOf({ name: 'x.JSONL.gz' }), hintOf({ name: 'x.ndjson' }), hintOf({ name: 'a/b.json?x=1' }), hintOf({ contentType: 'application/x-ndjson' }), hintOf({ contentType: 'application/json; charset=utf-8' }), hintOf({ name: '-' })]).toEqual(['jsonl', 'jsonl', 'json', 'jsonl', 'json', undefined]);
    const k = (t: string, final = true) => jsonKind(Buffer.from(t), t.indexOf('{'), final);
    expect(k('{"a":1}\n{"a":2}\n')).toBe('jsonl');
    expect(k('{"a":1}\n')).toBe('open');
    expect(k('{"data":[\n{"a":1}]}')).toBe('open');
    expect(k('{"a":"}\\"{"} {"b":1}')).toBe('open');
    expect(k('{"a":1}\n', false)).toBeUndefined();
  });
});

describe('file names', () => {
  it('directories and the --watch inbox take .json, .jsonl, .ndjson and their .gz, with .csv', () => {
    const names = ['a.csv', 'b.CSV.GZ', 'c.json', 'd.jsonl.gz', 'e.NDJSON', 'f.txt', 'g.json.bak', 'h.gz'];
    expect(names.filter(isDataFileName)).toEqual(['a.csv', 'b.CSV.GZ', 'c.json', 'd.jsonl.gz', 'e.NDJSON']);
    expect([...names, '.hidden.json'].filter(isInboxFile)).toEqual(['a.csv', 'b.CSV.GZ', 'c.json', 'd.jsonl.gz', 'e.NDJSON']);
  });
});

describe('HTTP pure parts', () => {
  it('turns userinfo into a Basic Authorization header, unless one is given', () => {
    expect(splitCredentials('https://ann:p%40ss@api.example/o?x=1', [])).toEqual({ url: 'https://api.example/o?x=1', headers: [['Authorization', `Basic ${Buffer.from('ann:p@ss').toString('base64')}`]] });
    expect(splitCredentials('https://ann:pw@api.example/o', [['authorization', 'Bearer t']])).toEqual({ url: 'https://api.example/o', headers: [['authorization', 'Bearer t']] });
    expect(splitCredentials('https://api.example/o', [])).toEqual({ url: 'https://api.example/o', headers: [] });
  });

  it('finds rel="next" in Link headers and next links in bodies, resolved against the page', () => {
    const base = 'https://api.example/v1/orders?page=1';
    expect(linkNext('<https://api.example/v1/orders?page=2>; rel="next", <https://api.example/v1/orders?page=9>; rel="last"', base)).toBe('https://api.example/v1/orders?page=2');
    expect(linkNext('</v1/orders?page=3>;rel=next', base)).toBe('https://api.example/v1/orders?page=3');
    expect(linkNext('<?page=4>; title="a, b"; rel="prefetch next"', base)).toBe('https://api.example/v1/orders?page=4');
    expect(linkNext('<https://x/p1>; rel="prev"', base)).toBeUndefined();
    expect(linkNext(undefined, base)).toBeUndefined();
    expect(bodyNext('next', 'p2', base)).toBe('https://api.example/v1/p2');
    expect(bodyNext('NEXT_URL', 'https://other/p', base)).toBe('https://other/p');
    expect(bodyNext('links', { next: '/n' }, base)).toBe('https://api.example/n');
    expect(bodyNext('paging', { next: null }, base)).toBeUndefined();
    expect(bodyNext('next', null, base)).toBeUndefined();
    expect(bodyNext('data', 'x', base)).toBeUndefined();
  });

  it('masks credentials and secret query values, keeping the rest as given', () => {
    expect(maskUrl('https://u:p@api.example/o?since=2011-12-01&api_key=abc&Access-Token=t&page=2&sig=s#f')).toBe('https://api.example/o?since=2011-12-01&api_key=***&Access-Token=***&page=2&sig=***#f');
    expect(maskUrl('https://api.example/o?client_secret=1&password=2&key=3&x_key=4&author=5&q=6')).toBe('https://api.example/o?client_secret=***&password=***&key=***&x_key=***&author=***&q=6');
    expect(maskUrl('http://h:8080/a/b?page=2')).toBe('http://h:8080/a/b?page=2');
  });

  it('reads headers with ${VAR} from the environment; Retry-After as seconds or a date', () => {
    expect(parseHeader('Authorization: Bearer ${T}', { T: 'abc' })).toEqual(['Authorization', 'Bearer abc']);
    expect(parseHeader('X-Api-Key:${A}-${B}', { A: '1', B: '2' })).toEqual(['X-Api-Key', '1-2']);
    expect(() => parseHeader('Authorization: Bearer ${T}', {})).toThrow('--header Authorization: the environment variable T is not set');
    expect(() => parseHeader('no colon', {})).toThrow(/Name: value/);
    expect(retryAfterSeconds('7')).toBe(7);
    expect(retryAfterSeconds(new Date(10_000 + 30_000).toUTCString(), 10_000)).toBe(30);
    expect(retryAfterSeconds(null)).toBeUndefined();
  });
});
