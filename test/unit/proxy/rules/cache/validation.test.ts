import { describe, expect, it } from 'vitest';
import type { HeaderPairs } from '../../../../../src/proxy/core/flow.js';
import {
  clientNotModified,
  conditionalFor,
  entityTags,
  hasConditional,
  hasOriginPrecondition,
  headRefersTo,
  invalidationTargets,
  isSafeMethod,
  mergeNotModified,
  notModifiedHeaders,
  notModifiedRefersTo,
  weakMatch,
} from '../../../../../src/proxy/rules/cache/validation.js';

const REF = Date.UTC(2024, 0, 1, 12);
const LM = 'Mon, 01 Jan 2024 10:00:00 GMT';

describe('conditional requests', () => {
  it.each<[string, HeaderPairs, HeaderPairs]>([
    ['ETag and Last-Modified', [['ETag', '"v1"'], ['Last-Modified', LM]], [['If-None-Match', '"v1"'], ['If-Modified-Since', LM]]],
    ['weak ETag kept as is', [['etag', 'W/"v1"']], [['If-None-Match', 'W/"v1"']]],
    ['Last-Modified only', [['Last-Modified', LM]], [['If-Modified-Since', LM]]],
    ['no validator', [['Cache-Control', 'max-age=1']], []],
  ])('conditionalFor: %s (§4.3.1)', (_case, stored, expected) => {
    expect(conditionalFor(stored)).toEqual(expected);
  });

  it.each<[HeaderPairs, boolean, boolean]>([
    [[], false, false],
    [[['If-None-Match', '"a"']], true, false],
    [[['if-modified-since', LM]], true, false],
    [[['If-Match', '"a"']], true, true],
    [[['If-Unmodified-Since', LM]], true, true],
    [[['If-Range', '"a"']], true, true],
  ])('hasConditional / hasOriginPrecondition %j', (headers, conditional, precondition) => {
    expect(hasConditional(headers)).toBe(conditional);
    expect(hasOriginPrecondition(headers)).toBe(precondition);
  });

  it.each<[string, string, boolean]>([
    ['"a"', '"a"', true],
    ['W/"a"', '"a"', true],
    ['W/"a"', 'W/"a"', true],
    ['"a"', '"b"', false],
    ['"a"', 'a', false],
  ])('weakMatch(%s, %s) = %s', (a, b, expected) => {
    expect(weakMatch(a, b)).toBe(expected);
  });

  it('splits entity tag lists, keeping commas inside tags', () => {
    expect(entityTags('"a", W/"b,c" ,"d"')).toEqual(['"a"', 'W/"b,c"', '"d"']);
    expect(entityTags(' * ')).toBe('*');
  });
});

describe('clientNotModified: answering a client conditional from the cache (§4.3.2)', () => {
  const stored = { status: 200, headers: [['ETag', '"v1"'], ['Last-Modified', LM], ['Date', 'Mon, 01 Jan 2024 11:00:00 GMT']] as HeaderPairs };
  const noEtag = { status: 200, headers: [['Last-Modified', LM]] as HeaderPairs };
  const dateOnly = { status: 200, headers: [['Date', 'Mon, 01 Jan 2024 11:00:00 GMT']] as HeaderPairs };
  it.each<[string, HeaderPairs, typeof stored, boolean]>([
    ['If-None-Match matching', [['If-None-Match', '"v1"']], stored, true],
    ['If-None-Match in a list, weak', [['If-None-Match', '"v0", W/"v1"']], stored, true],
    ['If-None-Match not matching', [['If-None-Match', '"v2"']], stored, false],
    ['If-None-Match: *', [['If-None-Match', '*']], stored, true],
    ['If-None-Match wins over a matching If-Modified-Since', [['If-None-Match', '"v2"'], ['If-Modified-Since', LM]], stored, false],
    ['If-None-Match with no stored ETag', [['If-None-Match', '"v1"']], noEtag, false],
    ['If-Modified-Since equal to Last-Modified', [['If-Modified-Since', LM]], stored, true],
    ['If-Modified-Since after Last-Modified', [['If-Modified-Since', 'Mon, 01 Jan 2024 10:30:00 GMT']], stored, true],
    ['If-Modified-Since before Last-Modified', [['If-Modified-Since', 'Mon, 01 Jan 2024 09:00:00 GMT']], stored, false],
    ['If-Modified-Since against Date when no Last-Modified', [['If-Modified-Since', 'Mon, 01 Jan 2024 11:00:00 GMT']], dateOnly, true],
    ['invalid If-Modified-Since', [['If-Modified-Since', 'yesterday']], stored, false],
    ['nothing conditional', [], stored, false],
  ])('%s', (_case, request, res, expected) => {
    expect(clientNotModified(request, res, REF)).toBe(expected);
  });

  it('makes a 304 with the fields that guide caches (RFC 9110 §15.4.5)', () => {
    const headers: HeaderPairs = [
      ['Content-Type', 'text/html'],
      ['Content-Length', '5'],
      ['ETag', '"v1"'],
      ['Last-Modified', LM],
      ['Cache-Control', 'max-age=60'],
      ['Vary', 'Accept'],
      ['Date', 'x'],
      ['Set-Cookie', 'a=b'],
    ];
    expect(notModifiedHeaders(headers)).toEqual([
      ['Content-Length', '5'],
      ['ETag', '"v1"'],
      ['Cache-Control', 'max-age=60'],
      ['Vary', 'Accept'],
      ['Date', 'x'],
    ]);
    expect(notModifiedHeaders([['Last-Modified', LM], ['Expires', 'e']])).toEqual([['Last-Modified', LM], ['Expires', 'e']]);
  });
});

describe('which stored response a 304 or a HEAD 200 refers to (§4.3.4, §4.3.5)', () => {
  const stored: HeaderPairs = [['ETag', '"v1"'], ['Last-Modified', LM], ['Content-Length', '5']];
  it.each<[string, HeaderPairs, HeaderPairs, boolean, boolean]>([
    // [case, stored, 304 headers, refers (our revalidation), refers (client's own conditional)]
    ['same ETag', stored, [['ETag', '"v1"']], true, true],
    ['weakly same ETag', stored, [['ETag', 'W/"v1"']], true, true],
    ['other ETag', stored, [['ETag', '"v2"']], false, false],
    ['ETag but none stored', [['Last-Modified', LM]], [['ETag', '"v1"']], false, false],
    ['same Last-Modified, no ETag', stored, [['Last-Modified', LM]], true, true],
    ['other Last-Modified', stored, [['Last-Modified', 'Tue, 02 Jan 2024 10:00:00 GMT']], false, false],
    ['no validator', stored, [['Date', 'x']], true, false],
  ])('304: %s', (_case, s, incoming, ours, client) => {
    expect(notModifiedRefersTo(s, incoming, false)).toBe(ours);
    expect(notModifiedRefersTo(s, incoming, true)).toBe(client);
  });

  it.each<[string, HeaderPairs, boolean]>([
    ['all equal', [['ETag', '"v1"'], ['Last-Modified', LM], ['Content-Length', '5']], true],
    ['only the ETag', [['ETag', '"v1"']], true],
    ['only the length', [['Content-Length', '5']], true],
    ['other ETag', [['ETag', '"v2"'], ['Content-Length', '5']], false],
    ['other length (§4.3.5: invalidate)', [['ETag', '"v1"'], ['Content-Length', '6']], false],
    ['nothing to compare', [['Content-Type', 'text/plain']], false],
  ])('HEAD 200: %s', (_case, incoming, expected) => {
    expect(headRefersTo(stored, incoming)).toBe(expected);
  });
});

describe('mergeNotModified (§3.2, §4.3.4)', () => {
  const stored: HeaderPairs = [
    ['Content-Type', 'text/html'],
    ['Content-Encoding', 'gzip'],
    ['Content-Length', '100'],
    ['Cache-Control', 'max-age=60'],
    ['ETag', '"v1"'],
    ['Date', 'Mon, 01 Jan 2024 10:00:00 GMT'],
    ['Age', '30'],
    ['Set-Cookie', 'a=1'],
    ['Set-Cookie', 'b=2'],
  ];

  it('replaces the fields the 304 carries, in place, and keeps the body framing', () => {
    const merged = mergeNotModified(
      stored,
      [
        ['Date', 'Mon, 01 Jan 2024 12:00:00 GMT'],
        ['cache-control', 'max-age=120'],
        ['ETag', '"v1"'],
        ['Content-Length', '0'],
        ['Content-Encoding', 'identity'],
        ['Expires', 'Mon, 01 Jan 2024 12:02:00 GMT'],
        ['Set-Cookie', 'c=3'],
        ['Connection', 'keep-alive, X-Hop'],
        ['Keep-Alive', 'timeout=5'],
        ['X-Hop', '1'],
        ['Transfer-Encoding', 'chunked'],
      ],
      'unused',
    );
    expect(merged).toEqual([
      ['Content-Type', 'text/html'],
      ['Content-Encoding', 'gzip'],
      ['Content-Length', '100'],
      ['cache-control', 'max-age=120'],
      ['ETag', '"v1"'],
      ['Date', 'Mon, 01 Jan 2024 12:00:00 GMT'],
      ['Set-Cookie', 'c=3'],
      ['Expires', 'Mon, 01 Jan 2024 12:02:00 GMT'],
    ]);
  });

  it('supplies Date when the 304 has none, drops the old Age, takes a new one', () => {
    expect(mergeNotModified([['Date', 'old'], ['Age', '9']], [['Age', '3']], 'now')).toEqual([['Date', 'now']]);
    expect(mergeNotModified([['ETag', '"a"'], ['Age', '9']], [], 'now')).toEqual([['ETag', '"a"'], ['Date', 'now']]);
  });
});

describe('invalidationTargets (§4.4)', () => {
  const url = 'http://example.com/items/1';
  it.each<[string, string, number, HeaderPairs, string[]]>([
    ['POST 201', 'POST', 201, [], [url]],
    ['PUT 204', 'PUT', 204, [], [url]],
    ['DELETE 200', 'DELETE', 200, [], [url]],
    ['PATCH 303', 'PATCH', 303, [], [url]],
    ['an unknown method counts as unsafe', 'PURGE', 200, [], [url]],
    ['lowercase method', 'post', 200, [], [url]],
    ['POST 404: error, nothing', 'POST', 404, [], []],
    ['POST 500: error, nothing', 'POST', 500, [], []],
    ['GET: safe', 'GET', 200, [], []],
    ['OPTIONS: safe', 'OPTIONS', 200, [], []],
    ['same-origin Location and Content-Location too', 'POST', 201, [['Location', '/items/2'], ['Content-Location', 'http://EXAMPLE.com:80/items/1?v']], [url, 'http://example.com/items/2', 'http://example.com/items/1?v']],
    ['another origin is not invalidated', 'POST', 201, [['Location', 'https://example.com/items/2'], ['Content-Location', 'http://other.example/x']], [url]],
    ['a Location equal to the target once', 'PUT', 200, [['Location', url]], [url]],
    ['an unparsable Location', 'POST', 201, [['Location', 'http://[bad']], [url]],
  ])('%s', (_case, method, status, headers, expected) => {
    expect(invalidationTargets(method, status, url, headers)).toEqual(expected);
  });

  it('knows the safe methods (RFC 9110 §9.2.1)', () => {
    expect(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'get'].every(isSafeMethod)).toBe(true);
    expect(['POST', 'PUT', 'DELETE', 'PATCH', 'CONNECT'].some(isSafeMethod)).toBe(false);
  });
});
