import { describe, expect, it } from 'vitest';
import type { HeaderPairs } from '../../../../../src/proxy/core/flow.js';
import {
  currentAge,
  freshnessLifetime,
  requestDirectives,
  reuseDecision,
  staleOnErrorAllowed,
  storability,
  type Lifetime,
  type NotStorableReason,
  type RequestDirectives,
  type Reuse,
  type TimedResponse,
} from '../../../../../src/proxy/rules/cache/freshness.js';
import { formatHttpDate } from '../../../../../src/proxy/rules/cache/http-date.js';

/** Response time of every stored response below: 2024-01-01T12:00:00Z. */
const T = Date.UTC(2024, 0, 1, 12);
const s = 1000;
const date = (offsetSeconds: number) => formatHttpDate(T + offsetSeconds * s);

/** A response received at T (request sent 0 s before unless said), with a Date of T unless given. */
function timed(headers: HeaderPairs, o: { status?: number; requestDelay?: number; noDate?: boolean } = {}): TimedResponse {
  const withDate: HeaderPairs = o.noDate || headers.some(([k]) => k.toLowerCase() === 'date') ? headers : [['Date', date(0)], ...headers];
  return { status: o.status ?? 200, headers: withDate, requestTime: T - (o.requestDelay ?? 0) * s, responseTime: T };
}

describe('storability: RFC 9111 §3 as a private cache', () => {
  it.each<[string, string, HeaderPairs, number, HeaderPairs, true | NotStorableReason]>([
    // [case, method, request headers, status, response headers, storable or why not]
    ['200 with max-age', 'GET', [], 200, [['Cache-Control', 'max-age=60']], true],
    ['200 without any freshness (heuristically cacheable)', 'GET', [], 200, [], true],
    ['private is storable in a private cache (§5.2.2.7)', 'GET', [], 200, [['Cache-Control', 'private, max-age=60']], true],
    ['private makes a 201 storable', 'GET', [], 201, [['Cache-Control', 'private']], true],
    ['no-cache is stored (and always revalidated)', 'GET', [], 200, [['Cache-Control', 'no-cache']], true],
    ['no-store is not (§5.2.2.5)', 'GET', [], 200, [['Cache-Control', 'max-age=60, no-store']], 'no-store'],
    ['NO-STORE in any case', 'GET', [], 200, [['cache-control', 'NO-STORE']], 'no-store'],
    ['no-store in the request (§5.2.1.5)', 'GET', [['Cache-Control', 'no-store']], 200, [['Cache-Control', 'max-age=60']], 'no-store'],
    ['must-understand with an understood status ignores no-store (§5.2.2.3)', 'GET', [], 200, [['Cache-Control', 'must-understand, no-store, max-age=60']], true],
    ['must-understand with an unknown status', 'GET', [], 299, [['Cache-Control', 'must-understand, max-age=60']], 'status'],
    ['s-maxage alone gives no freshness to a private cache (§5.2.2.10)', 'GET', [], 201, [['Cache-Control', 's-maxage=60']], 'not-cacheable'],
    ['Expires makes a 302 storable', 'GET', [], 302, [['Expires', date(60)]], true],
    ['302 without freshness is not', 'GET', [], 302, [], 'not-cacheable'],
    ['404 is heuristically cacheable', 'GET', [], 404, [], true],
    ['500 without freshness is not', 'GET', [], 500, [], 'not-cacheable'],
    ['Authorization does not prevent it in a private cache (§3.5)', 'GET', [['Authorization', 'Bearer x']], 200, [['Cache-Control', 'max-age=60']], true],
    ['HEAD is not stored', 'HEAD', [], 200, [['Cache-Control', 'max-age=60']], 'method'],
    ['POST is not stored', 'POST', [], 200, [['Cache-Control', 'max-age=60']], 'method'],
    ['a Range request is not', 'GET', [['Range', 'bytes=0-9']], 200, [['Cache-Control', 'max-age=60']], 'range'],
    ['206 is not', 'GET', [], 206, [['Cache-Control', 'max-age=60']], 'status'],
    ['304 is not an entry', 'GET', [], 304, [['Cache-Control', 'max-age=60']], 'status'],
    ['1xx is not', 'GET', [], 103, [], 'status'],
    ['Vary: * is not (§4.1)', 'GET', [], 200, [['Cache-Control', 'max-age=60'], ['Vary', '*']], 'vary-star'],
  ])('%s', (_case, method, reqHeaders, status, resHeaders, expected) => {
    const verdict = storability({ method, headers: reqHeaders }, { status, headers: resHeaders });
    expect(verdict).toEqual(expected === true ? { storable: true } : { storable: false, reason: expected });
  });
});

describe('freshnessLifetime (§4.2.1, §4.2.2)', () => {
  it.each<[string, HeaderPairs, number, Lifetime]>([
    // [case, response headers (Date: T unless given), status, lifetime]
    ['max-age', [['Cache-Control', 'max-age=60']], 200, { seconds: 60, source: 'max-age' }],
    ['max-age wins over Expires (§5.3)', [['Cache-Control', 'max-age=60'], ['Expires', date(3600)]], 200, { seconds: 60, source: 'max-age' }],
    ['s-maxage is ignored, max-age used', [['Cache-Control', 's-maxage=600, max-age=60']], 200, { seconds: 60, source: 'max-age' }],
    ['s-maxage alone: heuristics (no Last-Modified: none)', [['Cache-Control', 's-maxage=600']], 200, { seconds: 0, source: 'none' }],
    ['max-age=0', [['Cache-Control', 'max-age=0']], 200, { seconds: 0, source: 'max-age' }],
    ['invalid max-age is stale, Expires not consulted', [['Cache-Control', 'max-age=abc'], ['Expires', date(3600)]], 200, { seconds: 0, source: 'invalid' }],
    ['conflicting max-age is stale', [['Cache-Control', 'max-age=60'], ['Cache-Control', 'max-age=120']], 200, { seconds: 0, source: 'invalid' }],
    ['Expires − Date', [['Expires', date(120)]], 200, { seconds: 120, source: 'expires' }],
    ['Expires − Date with Date in the past', [['Date', date(-30)], ['Expires', date(90)]], 200, { seconds: 120, source: 'expires' }],
    ['Expires in the past', [['Expires', date(-3600)]], 200, { seconds: 0, source: 'expires' }],
    ['Expires: 0 (§5.3: in the past)', [['Expires', '0']], 200, { seconds: 0, source: 'invalid' }],
    ['Expires garbage', [['Expires', 'tomorrow']], 200, { seconds: 0, source: 'invalid' }],
    ['two different Expires', [['Expires', date(60)], ['Expires', date(120)]], 200, { seconds: 0, source: 'invalid' }],
    ['Expires without Date uses the response time', [['Expires', date(45)]], 200, { seconds: 45, source: 'expires' }],
    ['heuristic: 10% of Date − Last-Modified', [['Last-Modified', date(-1000)]], 200, { seconds: 100, source: 'heuristic' }],
    ['heuristic capped at one day', [['Last-Modified', date(-30 * 86400)]], 200, { seconds: 86400, source: 'heuristic' }],
    ['heuristic for 404', [['Last-Modified', date(-1000)]], 404, { seconds: 100, source: 'heuristic' }],
    ['no heuristic for 302', [['Last-Modified', date(-1000)]], 302, { seconds: 0, source: 'none' }],
    ['heuristic for a 302 marked public', [['Cache-Control', 'public'], ['Last-Modified', date(-1000)]], 302, { seconds: 100, source: 'heuristic' }],
    ['Last-Modified in the future gives nothing', [['Last-Modified', date(1000)]], 200, { seconds: 0, source: 'none' }],
    ['Last-Modified invalid gives nothing', [['Last-Modified', 'yesterday']], 200, { seconds: 0, source: 'none' }],
    ['nothing at all', [], 200, { seconds: 0, source: 'none' }],
  ])('%s', (_case, headers, status, expected) => {
    const noDate = _case.includes('without Date');
    expect(freshnessLifetime(timed(headers, { status, noDate }))).toEqual(expected);
  });
});

describe('currentAge (§4.2.3)', () => {
  it.each<[string, HeaderPairs, { requestDelay?: number; noDate?: boolean }, number, number]>([
    // [case, headers, timing, seconds after the response, expected age]
    ['brand new', [], {}, 0, 0],
    ['resident time counts', [], {}, 30, 30],
    ['Age from upstream', [['Age', '100']], {}, 0, 100],
    ['Age plus the response delay', [['Age', '100']], { requestDelay: 2 }, 10, 112],
    ['apparent age from an old Date', [['Date', date(-50)]], {}, 0, 50],
    ['the larger of apparent age and corrected Age', [['Date', date(-50)], ['Age', '20']], { requestDelay: 1 }, 5, 55],
    ['corrected Age larger than apparent age', [['Date', date(-5)], ['Age', '20']], { requestDelay: 2 }, 10, 32],
    ['a Date in the future gives no negative age', [['Date', date(300)]], {}, 0, 0],
    ['an invalid Age is ignored (§5.1)', [['Age', 'ten']], {}, 0, 0],
    ['a list Age is ignored (§5.1)', [['Age', '5, 6']], {}, 0, 0],
    ['two Age lines are ignored', [['Age', '5'], ['Age', '6']], {}, 0, 0],
    ['an invalid Date counts as the response time', [['Date', 'garbage']], {}, 3, 3],
    ['no Date', [], { noDate: true }, 3, 3],
  ])('%s', (_case, headers, timing, after, expected) => {
    expect(currentAge(timed(headers, timing), T + after * s)).toBeCloseTo(expected, 6);
  });
});

const none: RequestDirectives = { noCache: false, noStore: false, maxAge: null, maxStale: null, minFresh: null, onlyIfCached: false };

describe('requestDirectives (§5.2.1, §5.4)', () => {
  it.each<[string, HeaderPairs, Partial<RequestDirectives>]>([
    ['nothing', [], {}],
    ['no-cache', [['Cache-Control', 'no-cache']], { noCache: true }],
    ['Pragma: no-cache without Cache-Control', [['Pragma', 'no-cache']], { noCache: true }],
    ['Pragma is ignored when Cache-Control is present', [['Pragma', 'no-cache'], ['Cache-Control', 'max-stale']], { maxStale: Infinity }],
    ['max-age=0 means revalidate', [['Cache-Control', 'max-age=0']], { noCache: true, maxAge: 0 }],
    ['max-age=30', [['Cache-Control', 'max-age=30']], { maxAge: 30 }],
    ['invalid max-age counts as 0', [['Cache-Control', 'max-age=x']], { noCache: true, maxAge: 0 }],
    ['bare max-stale: any staleness', [['Cache-Control', 'max-stale']], { maxStale: Infinity }],
    ['max-stale=20', [['Cache-Control', 'max-stale=20']], { maxStale: 20 }],
    ['invalid max-stale is ignored', [['Cache-Control', 'max-stale=x']], {}],
    ['min-fresh', [['Cache-Control', 'min-fresh=10']], { minFresh: 10 }],
    ['only-if-cached', [['Cache-Control', 'only-if-cached']], { onlyIfCached: true }],
    ['no-store', [['cache-control', 'No-Store']], { noStore: true }],
  ])('%s', (_case, headers, expected) => {
    expect(requestDirectives(headers)).toEqual({ ...none, ...expected });
  });
});

describe('reuseDecision (§4, §4.2.4, §5.2)', () => {
  it.each<[string, HeaderPairs, HeaderPairs, number, Reuse['use'], string?]>([
    // [case, stored response headers (Date: T), request headers, seconds later, use, reason]
    ['fresh', [['Cache-Control', 'max-age=60']], [], 30, 'fresh'],
    ['just stale', [['Cache-Control', 'max-age=60']], [], 60, 'revalidate', 'stale'],
    ['stale', [['Cache-Control', 'max-age=60']], [], 90, 'revalidate', 'stale'],
    ['Expires in the past', [['Expires', date(-60)]], [], 0, 'revalidate', 'stale'],
    ['invalid Expires', [['Expires', '0']], [], 0, 'revalidate', 'stale'],
    ['Age from upstream makes it older', [['Cache-Control', 'max-age=60'], ['Age', '50']], [], 20, 'revalidate', 'stale'],
    ['heuristic freshness', [['Last-Modified', date(-1000)]], [], 50, 'fresh'],
    ['response no-cache: always revalidate', [['Cache-Control', 'max-age=600, no-cache']], [], 0, 'revalidate', 'response-no-cache'],
    ['qualified no-cache treated as unqualified', [['Cache-Control', 'max-age=600, no-cache="Set-Cookie"']], [], 0, 'revalidate', 'response-no-cache'],
    ['request no-cache', [['Cache-Control', 'max-age=600']], [['Cache-Control', 'no-cache']], 0, 'revalidate', 'request-no-cache'],
    ['request Pragma: no-cache', [['Cache-Control', 'max-age=600']], [['Pragma', 'no-cache']], 0, 'revalidate', 'request-no-cache'],
    ['request max-age=0', [['Cache-Control', 'max-age=600']], [['Cache-Control', 'max-age=0']], 0, 'revalidate', 'request-no-cache'],
    ['request max-age exceeded', [['Cache-Control', 'max-age=600']], [['Cache-Control', 'max-age=10']], 11, 'revalidate', 'request-max-age'],
    ['request max-age met', [['Cache-Control', 'max-age=600']], [['Cache-Control', 'max-age=10']], 10, 'fresh'],
    ['min-fresh not met', [['Cache-Control', 'max-age=60']], [['Cache-Control', 'min-fresh=40']], 30, 'revalidate', 'min-fresh'],
    ['min-fresh met', [['Cache-Control', 'max-age=60']], [['Cache-Control', 'min-fresh=20']], 30, 'fresh'],
    ['stale within max-stale', [['Cache-Control', 'max-age=60']], [['Cache-Control', 'max-stale=30']], 85, 'stale'],
    ['stale beyond max-stale', [['Cache-Control', 'max-age=60']], [['Cache-Control', 'max-stale=30']], 95, 'revalidate', 'stale'],
    ['bare max-stale accepts any staleness', [['Cache-Control', 'max-age=60']], [['Cache-Control', 'max-stale']], 1e6, 'stale'],
    ['must-revalidate beats max-stale (§5.2.2.2)', [['Cache-Control', 'max-age=60, must-revalidate']], [['Cache-Control', 'max-stale']], 90, 'revalidate', 'must-revalidate'],
    ['must-revalidate does not matter while fresh', [['Cache-Control', 'max-age=60, must-revalidate']], [], 30, 'fresh'],
    ['proxy-revalidate binds shared caches only', [['Cache-Control', 'max-age=60, proxy-revalidate']], [['Cache-Control', 'max-stale']], 90, 'stale'],
    ['s-maxage is not freshness here', [['Cache-Control', 's-maxage=600']], [], 1, 'revalidate', 'stale'],
  ])('%s', (_case, resHeaders, reqHeaders, later, use, reason) => {
    const d = reuseDecision(timed(resHeaders), requestDirectives(reqHeaders), T + later * s);
    expect(d.use).toBe(use);
    if (reason) expect(d).toMatchObject({ reason });
  });

  it('reports the current age', () => {
    expect(reuseDecision(timed([['Cache-Control', 'max-age=60'], ['Age', '5']]), none, T + 10 * s)).toEqual({ use: 'fresh', age: 15 });
  });
});

describe('staleOnErrorAllowed (§4.2.4)', () => {
  it.each<[string, HeaderPairs, HeaderPairs, boolean]>([
    ['plain stale response', [['Cache-Control', 'max-age=60']], [], true],
    ['must-revalidate', [['Cache-Control', 'max-age=60, must-revalidate']], [], false],
    ['response no-cache', [['Cache-Control', 'no-cache']], [], false],
    ['request no-cache', [['Cache-Control', 'max-age=60']], [['Cache-Control', 'no-cache']], false],
    ['request max-stale', [['Cache-Control', 'max-age=60']], [['Cache-Control', 'max-stale=1']], true],
  ])('%s', (_case, resHeaders, reqHeaders, expected) => {
    expect(staleOnErrorAllowed({ status: 200, headers: resHeaders }, requestDirectives(reqHeaders))).toBe(expected);
  });
});
