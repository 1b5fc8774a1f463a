/**
 * Header translation between HTTP/1.1 and HTTP/2 (RFC 9113 §8.2–8.3), pure: pseudo-headers in and
 * out, Host from :authority, cookie crumbs, connection-specific fields, TE.
 */
import { describe, expect, it } from 'vitest';
import type { HeaderPairs } from '../../../../src/proxy/core/flow.js';
import {
  h1FieldsFromH2,
  h2FieldsFrom,
  h2RequestHeaders,
  pairsFromH2Headers,
  parseH2RequestHead,
  type H2RequestHead,
} from '../../../../src/proxy/core/h2-translate.js';

type H2Fields = Record<string, string | string[]>;

/** A null-prototype object, the shape h2FieldsFrom returns, for toStrictEqual. */
function fields(entries: H2Fields): H2Fields {
  return Object.assign(Object.create(null) as H2Fields, entries);
}

describe('parseH2RequestHead', () => {
  it.each<[string, string[], H2RequestHead]>([
    [
      'all four pseudo-headers, fields in order and case',
      [':method', 'POST', ':scheme', 'https', ':authority', 'example.com:8443', ':path', '/a?b=c', 'content-type', 'text/plain', 'X-Mixed', '1', 'accept', '*/*'],
      {
        method: 'POST',
        scheme: 'https',
        authority: 'example.com:8443',
        path: '/a?b=c',
        headers: [
          ['content-type', 'text/plain'],
          ['X-Mixed', '1'],
          ['accept', '*/*'],
        ],
      },
    ],
    ['no pseudo-headers: GET /, scheme and authority unknown', ['accept', '*/*'], { method: 'GET', scheme: null, authority: null, path: '/', headers: [['accept', '*/*']] }],
    ['empty list', [], { method: 'GET', scheme: null, authority: null, path: '/', headers: [] }],
    [
      'pseudo-headers after fields are still pseudo-headers',
      ['accept', '*/*', ':path', '/late', ':method', 'DELETE'],
      { method: 'DELETE', scheme: null, authority: null, path: '/late', headers: [['accept', '*/*']] },
    ],
    [
      'unknown pseudo-headers (:protocol) are not regular fields',
      [':method', 'CONNECT', ':protocol', 'websocket', ':scheme', 'https', ':authority', 'a.test', ':path', '/chat', 'sec-websocket-version', '13'],
      { method: 'CONNECT', scheme: 'https', authority: 'a.test', path: '/chat', headers: [['sec-websocket-version', '13']] },
    ],
    [
      'repeated fields and cookie crumbs stay separate pairs',
      [':method', 'GET', ':path', '/', 'cookie', 'a=1', 'x-r', '1', 'cookie', 'b=2', 'x-r', '2'],
      {
        method: 'GET',
        scheme: null,
        authority: null,
        path: '/',
        headers: [
          ['cookie', 'a=1'],
          ['x-r', '1'],
          ['cookie', 'b=2'],
          ['x-r', '2'],
        ],
      },
    ],
    [
      'a host field is a regular field',
      [':method', 'GET', ':authority', 'a.test', ':path', '/', 'host', 'b.test'],
      { method: 'GET', scheme: null, authority: 'a.test', path: '/', headers: [['host', 'b.test']] },
    ],
  ])('%s', (_name, raw, expected) => {
    expect(parseH2RequestHead(raw)).toEqual(expected);
  });

  it('does not modify its input', () => {
    const raw = [':method', 'GET', ':path', '/', 'a', '1'];
    const copy = [...raw];
    parseH2RequestHead(raw);
    expect(raw).toEqual(copy);
  });
});

describe('h1FieldsFromH2', () => {
  it.each<[string, HeaderPairs, string, HeaderPairs]>([
    ['Host from :authority goes first', [['accept', '*/*'], ['x-a', '1']], 'example.com:8443', [['host', 'example.com:8443'], ['accept', '*/*'], ['x-a', '1']]],
    ['no fields: only Host', [], 'a.test', [['host', 'a.test']]],
    [
      'a host field that came along is kept where it is (no second Host)',
      [['accept', '*/*'], ['host', 'b.test'], ['x-a', '1']],
      'a.test',
      [['accept', '*/*'], ['host', 'b.test'], ['x-a', '1']],
    ],
    ['a Host field in any case counts', [['Host', 'b.test']], 'a.test', [['Host', 'b.test']]],
    ['one cookie stays as it is', [['cookie', 'a=1']], 'a.test', [['host', 'a.test'], ['cookie', 'a=1']]],
    [
      'cookie crumbs are joined with "; " in order (RFC 9113 §8.2.3)',
      [['cookie', 'a=1'], ['accept', '*/*'], ['cookie', 'b=2'], ['x-a', '1'], ['cookie', 'c=3']],
      'a.test',
      [['host', 'a.test'], ['accept', '*/*'], ['x-a', '1'], ['cookie', 'a=1; b=2; c=3']],
    ],
    ['crumbs named in any case are joined', [['Cookie', 'a=1'], ['cookie', 'b=2']], 'a.test', [['host', 'a.test'], ['cookie', 'a=1; b=2']]],
    [
      'order and case of the other fields kept, repeats kept',
      [['X-B', '1'], ['x-a', '2'], ['X-B', '3']],
      'a.test',
      [['host', 'a.test'], ['X-B', '1'], ['x-a', '2'], ['X-B', '3']],
    ],
  ])('%s', (_name, headers, authority, expected) => {
    expect(h1FieldsFromH2(headers, authority)).toEqual(expected);
  });

  it('does not modify its input', () => {
    const headers: HeaderPairs = [['cookie', 'a=1'], ['cookie', 'b=2']];
    h1FieldsFromH2(headers, 'a.test');
    expect(headers).toEqual([['cookie', 'a=1'], ['cookie', 'b=2']]);
  });
});

describe('h2FieldsFrom', () => {
  it.each<[string, HeaderPairs, H2Fields]>([
    ['empty', [], {}],
    ['names are lowercased, values kept', [['Content-Type', 'Text/Plain'], ['X-MiXeD', 'AbC']], { 'content-type': 'Text/Plain', 'x-mixed': 'AbC' }],
    ...(['Connection', 'Keep-Alive', 'Proxy-Connection', 'Transfer-Encoding', 'Upgrade', 'HTTP2-Settings', 'Host'].map((name): [string, HeaderPairs, H2Fields] => [
      `${name} is removed (RFC 9113 §8.2.2)`,
      [['accept', '*/*'], [name, name === 'Connection' ? 'keep-alive' : 'x'], ['x-after', '1']],
      { accept: '*/*', 'x-after': '1' },
    ])),
    [
      'every field named in Connection is removed, whatever its case',
      [['Connection', 'X-Foo, x-bar ,Keep-Alive'], ['x-foo', '1'], ['X-Bar', '2'], ['keep-alive', 'timeout=5'], ['x-baz', '3']],
      { 'x-baz': '3' },
    ],
    ['names from several Connection fields are all removed', [['connection', 'x-a'], ['connection', 'x-b'], ['x-a', '1'], ['x-b', '2'], ['x-c', '3']], { 'x-c': '3' }],
    ['TE: trailers is kept', [['TE', 'trailers']], { te: 'trailers' }],
    ['TE: Trailers (case, spaces) is kept as "trailers"', [['te', ' Trailers ']], { te: 'trailers' }],
    ['TE with another coding is removed', [['TE', 'gzip'], ['x-a', '1']], { 'x-a': '1' }],
    ['TE: trailers with another coding is removed (only "trailers" is allowed)', [['TE', 'trailers, deflate;q=0.5']], {}],
    ['repeated fields become an array in order', [['x-r', '1'], ['x-a', 'a'], ['X-R', '2'], ['x-r', '3']], { 'x-r': ['1', '2', '3'], 'x-a': 'a' }],
    ['two set-cookie fields become an array', [['Set-Cookie', 'a=1; Path=/'], ['set-cookie', 'b=2']], { 'set-cookie': ['a=1; Path=/', 'b=2'] }],
    ['pseudo-headers are not copied', [[':method', 'GET'], [':path', '/x'], ['accept', '*/*'], [':status', '200']], { accept: '*/*' }],
    ['an empty value is kept', [['x-empty', '']], { 'x-empty': '' }],
  ])('%s', (_name, headers, expected) => {
    expect(h2FieldsFrom(headers)).toStrictEqual(fields(expected));
  });

  it('a field named __proto__ is an ordinary field (the result has no prototype)', () => {
    const out = h2FieldsFrom([['__proto__', 'x']]);
    expect(Object.getPrototypeOf(out)).toBeNull();
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(out['__proto__']).toBe('x');
  });
});

describe('h2RequestHeaders', () => {
  it.each<[string, [string, string, string, string, HeaderPairs], H2Fields]>([
    [
      'pseudo-headers first, then the translated fields',
      ['GET', 'https', 'a.test:8443', '/p?q=1', [['Accept', '*/*'], ['X-A', '1']]],
      { ':method': 'GET', ':scheme': 'https', ':authority': 'a.test:8443', ':path': '/p?q=1', accept: '*/*', 'x-a': '1' },
    ],
    [
      'connection-specific fields and Host are dropped, TE: trailers kept',
      ['POST', 'https', 'a.test', '/', [['Host', 'a.test'], ['Connection', 'keep-alive, x-hop'], ['Keep-Alive', '5'], ['x-hop', '1'], ['TE', 'trailers'], ['Transfer-Encoding', 'chunked'], ['content-type', 'text/plain']]],
      { ':method': 'POST', ':scheme': 'https', ':authority': 'a.test', ':path': '/', te: 'trailers', 'content-type': 'text/plain' },
    ],
    [
      'pseudo-headers among the fields never override the given ones',
      ['GET', 'https', 'a.test', '/right', [[':path', '/wrong'], [':authority', 'evil.test'], ['accept', '*/*']]],
      { ':method': 'GET', ':scheme': 'https', ':authority': 'a.test', ':path': '/right', accept: '*/*' },
    ],
    [
      'repeated fields become arrays',
      ['GET', 'https', 'a.test', '/', [['cookie', 'a=1'], ['cookie', 'b=2']]],
      { ':method': 'GET', ':scheme': 'https', ':authority': 'a.test', ':path': '/', cookie: ['a=1', 'b=2'] },
    ],
  ])('%s', (_name, [method, scheme, authority, path, headers], expected) => {
    const out = h2RequestHeaders(method, scheme, authority, path, headers);
    expect(out).toEqual(expected);
    expect(Object.keys(out).slice(0, 4)).toEqual([':method', ':scheme', ':authority', ':path']);
  });
});

describe('h2RequestHeaders: field names that are Object.prototype members', () => {
  // `__proto__` is a valid field name (RFC 9110 §5.1 token); assigning it on an ordinary object
  // literal calls the prototype setter instead of adding a field.
  it('keeps a field named __proto__', () => {
    const out = h2RequestHeaders('GET', 'https', 'a.test', '/', [['__proto__', 'x']]);
    expect(Object.keys(out)).toEqual([':method', ':scheme', ':authority', ':path', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toBe('x');
  });

  it('two __proto__ fields do not replace the prototype of the header object', () => {
    const out = h2RequestHeaders('GET', 'https', 'a.test', '/', [['__proto__', 'x'], ['__proto__', 'y']]);
    const enumerated: string[] = [];
    for (const k in out) enumerated.push(k);
    expect(enumerated).toEqual([':method', ':scheme', ':authority', ':path', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual(['x', 'y']);
  });
});

describe('pairsFromH2Headers', () => {
  it.each<[string, Record<string, string | string[] | number | undefined>, HeaderPairs]>([
    ['empty', {}, []],
    ['only :status: nothing', { ':status': 204 }, []],
    [
      ':status dropped, the rest in object order',
      { ':status': 200, 'content-type': 'text/plain', 'x-a': '1' },
      [
        ['content-type', 'text/plain'],
        ['x-a', '1'],
      ],
    ],
    [
      'arrays are expanded into one pair per value, in order',
      { ':status': '200', 'set-cookie': ['a=1', 'b=2', 'c=3'], vary: 'accept' },
      [
        ['set-cookie', 'a=1'],
        ['set-cookie', 'b=2'],
        ['set-cookie', 'c=3'],
        ['vary', 'accept'],
      ],
    ],
    ['numbers become strings', { 'content-length': 42 }, [['content-length', '42']]],
    ['undefined values are skipped', { 'x-a': undefined, 'x-b': 'b' }, [['x-b', 'b']]],
    ['other pseudo-headers are dropped too', { ':status': 200, ':path': '/x', accept: '*/*' }, [['accept', '*/*']]],
  ])('%s', (_name, headers, expected) => {
    expect(pairsFromH2Headers(headers)).toEqual(expected);
  });

  it('round-trips with h2FieldsFrom for regular fields', () => {
    const pairs: HeaderPairs = [
      ['content-type', 'text/plain'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['x-a', '1'],
    ];
    expect(pairsFromH2Headers(h2FieldsFrom(pairs))).toEqual(pairs);
  });
});
