import { describe, expect, it } from 'vitest';
import type { LogLevel } from '../../../../../src/proxy/core/events.js';
import type { Flow, FlowErrorCode, HeaderPairs } from '../../../../../src/proxy/core/flow.js';
import { headerValue } from '../../../../../src/proxy/core/flow.js';
import type { Addon, HookContext, HookDecision, LocalResponse } from '../../../../../src/proxy/core/pipeline.js';
import { cacheAddon, formatBytes } from '../../../../../src/proxy/rules/cache/cache-addon.js';
import { formatHttpDate } from '../../../../../src/proxy/rules/cache/http-date.js';
import { HttpCache } from '../../../../../src/proxy/rules/cache/http-cache.js';
import { body, makeFlow } from '../../../../helpers/make-flow.js';

// --- a tiny exchange: the hooks in the order the real one runs them --------------------------------

interface Origin {
  status?: number;
  headers?: HeaderPairs;
  body?: string;
  /** Milliseconds between sending the request and receiving the head. @default 100 */
  latency?: number;
  /** The upstream fails instead of answering. */
  error?: FlowErrorCode;
  /** observeResponseBody gets null (body over the limit or cut short). */
  bodyCut?: boolean;
  /** A later rule changes the response head after the cache's responseHeaders hook. */
  later?: (headers: HeaderPairs) => HeaderPairs;
}

interface Result {
  flow: Flow;
  /** What the client got: from the cache (`tag` set), or the origin's response passed through. */
  status: number;
  headers: HeaderPairs;
  body: string;
  tag: string | null;
  /** The request headers that went upstream, or null when nothing went upstream. */
  upstream: HeaderPairs | null;
  logs: Array<[LogLevel, string]>;
}

function harness(o: { maxBytes?: number; maxEntryBytes?: number } = {}) {
  let clock = Date.UTC(2024, 0, 1, 12);
  const toggles = { enabled: true, bypass: false };
  const cache = new HttpCache(o);
  const addon: Addon = cacheAddon({ cache, enabled: () => toggles.enabled, bypass: () => toggles.bypass, now: () => clock });

  async function run(req: { method?: string; path?: string; headers?: HeaderPairs }, origin: Origin | ((upstream: HeaderPairs) => Origin)): Promise<Result> {
    const flow = makeFlow({ request: { method: req.method ?? 'GET', path: req.path ?? '/a', headers: req.headers ?? [['Host', 'example.com']] }, response: null });
    const logs: Array<[LogLevel, string]> = [];
    const observers: Array<{ max: number; fn: (b: Buffer | null, f: Flow) => void }> = [];
    const ctx: HookContext = {
      log: (level, message) => logs.push([level, message]),
      throttle: () => {},
      transformRequestBody: () => {},
      transformResponseBody: () => {},
      observeResponseBody: (max, fn) => observers.push({ max, fn }),
    };
    const local = (d: HookDecision | void, upstream: HeaderPairs | null): Result | null => {
      if (!d || d.action !== 'respond') return null;
      const r: LocalResponse = d.response;
      if (d.tag) flow.tags.push(d.tag);
      return { flow, status: r.status, headers: r.headers, body: r.body.toString(), tag: d.tag ?? null, upstream, logs };
    };

    const fromCache = local(await addon.request!(flow, ctx), null);
    if (fromCache) return fromCache;
    const upstream = flow.request.headers.map(([k, v]) => [k, v] as [string, string]);
    const answer = typeof origin === 'function' ? origin(upstream) : origin;
    clock += answer.latency ?? 100;
    if (answer.error) {
      flow.error = { code: answer.error, message: 'upstream failed' };
      const replaced = local(await addon.error!(flow, ctx), upstream);
      return replaced ?? { flow, status: 502, headers: [], body: 'error page', tag: null, upstream, logs };
    }
    const text = answer.body ?? 'hello';
    flow.response = {
      status: answer.status ?? 200,
      statusText: '',
      httpVersion: '1.1',
      headers: answer.headers ?? [],
      trailers: null,
      body: body(text),
    };
    const replaced = local(await addon.responseHeaders!(flow, ctx), upstream);
    if (replaced) return replaced;
    if (answer.later) flow.response.headers = answer.later(flow.response.headers);
    const bytes = Buffer.from(flow.request.method === 'HEAD' ? '' : text);
    for (const { max, fn } of observers) fn(answer.bodyCut || bytes.length > max ? null : bytes, flow);
    return { flow, status: flow.response.status, headers: flow.response.headers, body: text, tag: null, upstream, logs };
  }

  return {
    cache,
    addon,
    toggles,
    run,
    /** Move the clock on by `seconds`. */
    wait: (seconds: number) => {
      clock += seconds * 1000;
    },
    /** An HTTP-date `seconds` from now. */
    date: (seconds = 0) => formatHttpDate(clock + seconds * 1000),
  };
}

/** A GET that must not reach the origin. */
const NO_ORIGIN = (): Origin => {
  throw new Error('went upstream');
};
const h = (headers: HeaderPairs, name: string) => headerValue(headers, name);

// --- the tests ------------------------------------------------------------------------------------

describe('cache addon: hits and misses', () => {
  it('stores a fresh response and answers from it with a correct Age, tagged HIT', async () => {
    const t = harness();
    const first = await t.run({}, { headers: [['Cache-Control', 'max-age=60'], ['Date', t.date(0.1)], ['Content-Type', 'text/plain']], body: 'v1' });
    expect(first.tag).toBeNull();
    expect(t.cache.stats().entries).toBe(1);
    t.wait(10);
    const second = await t.run({}, NO_ORIGIN);
    expect(second).toMatchObject({ status: 200, body: 'v1', tag: 'cache:HIT', upstream: null });
    expect(second.flow.tags).toEqual(['cache:HIT']);
    expect(h(second.headers, 'Age')).toBe('10');
    expect(h(second.headers, 'Content-Type')).toBe('text/plain');
    expect(h(second.headers, 'Content-Length')).toBe('2');
  });

  it('computes Age from the upstream Age, the response delay and the resident time (§4.2.3)', async () => {
    const t = harness();
    // Request sent at 0, answered at 2 s with Age: 20 and a Date 5 s before that.
    await t.run({}, { latency: 2000, headers: [['Cache-Control', 'max-age=600'], ['Age', '20'], ['Date', t.date(2 - 5)]] });
    t.wait(10);
    const hit = await t.run({}, NO_ORIGIN);
    expect(h(hit.headers, 'Age')).toBe('32'); // max(5, 20 + 2) + 10
    expect(hit.headers.filter(([k]) => k.toLowerCase() === 'age')).toHaveLength(1);
  });

  it('answers HEAD from the stored GET, without a body but with its length', async () => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'max-age=60']], body: 'hello world' });
    const head = await t.run({ method: 'HEAD' }, NO_ORIGIN);
    expect(head).toMatchObject({ status: 200, body: '', tag: 'cache:HIT' });
    expect(h(head.headers, 'Content-Length')).toBe('11');
  });

  it('never stores a HEAD response', async () => {
    const t = harness();
    await t.run({ method: 'HEAD' }, { headers: [['Cache-Control', 'max-age=60']] });
    expect(t.cache.stats().entries).toBe(0);
  });

  it('keeps URLs apart, query included', async () => {
    const t = harness();
    await t.run({ path: '/a?x=1' }, { headers: [['Cache-Control', 'max-age=60']], body: 'x1' });
    expect((await t.run({ path: '/a?x=2' }, { headers: [['Cache-Control', 'max-age=60']], body: 'x2' })).tag).toBeNull();
    expect((await t.run({ path: '/a?x=1' }, NO_ORIGIN)).body).toBe('x1');
  });

  it.each<[string, HeaderPairs, boolean, string | null]>([
    // [case, response headers, stored, tag of the next request that gets a 304 to revalidation]
    ['max-age', [['Cache-Control', 'max-age=60']], true, 'cache:HIT'],
    ['private is stored by a private cache', [['Cache-Control', 'private, max-age=60']], true, 'cache:HIT'],
    ['no-store is not stored', [['Cache-Control', 'no-store, max-age=60']], false, null],
    ['no-cache is stored but revalidated', [['Cache-Control', 'no-cache'], ['ETag', '"v1"']], true, 'cache:REVALIDATED'],
    ['s-maxage alone is no freshness here', [['Cache-Control', 's-maxage=600'], ['ETag', '"v1"']], true, 'cache:REVALIDATED'],
    ['Expires in the future', [['Expires', 'DATE+60']], true, 'cache:HIT'],
    ['Expires in the past', [['Expires', 'DATE-60'], ['ETag', '"v1"']], true, 'cache:REVALIDATED'],
    ['Expires: 0 (invalid = stale, §5.3)', [['Expires', '0'], ['ETag', '"v1"'], ['Last-Modified', 'Mon, 01 Jan 2024 00:00:00 GMT']], true, 'cache:REVALIDATED'],
    ['heuristic freshness from Last-Modified', [['Last-Modified', 'DATE-3600']], true, 'cache:HIT'],
    ['a bad Date and no validator: stored, stale, fetched again', [['Date', 'garbage'], ['Expires', 'garbage']], true, null],
  ])('%s', async (_case, headers, stored, tag) => {
    const t = harness();
    const resolved = headers.map(([k, v]) => [k, v.replace(/^DATE([+-]\d+)$/, (_m, s: string) => t.date(Number(s)))] as [string, string]);
    await t.run({}, { headers: resolved, body: 'v1' });
    expect(t.cache.stats().entries).toBe(stored ? 1 : 0);
    t.wait(1);
    const next = await t.run({}, { status: 304, headers: [['ETag', '"v1"']], body: '' });
    expect(next.tag).toBe(tag);
    if (tag) expect(next.body).toBe('v1');
  });
});

describe('cache addon: revalidation (§4.3)', () => {
  it('adds the validators to a stale request, answers a 304 with the stored response and freshens it', async () => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'max-age=10'], ['ETag', '"v1"'], ['Last-Modified', 'Mon, 01 Jan 2024 00:00:00 GMT'], ['Content-Type', 'text/plain'], ['X-Old', '1']], body: 'v1' });
    t.wait(20);
    const reval = await t.run({}, { status: 304, headers: [['ETag', '"v1"'], ['Cache-Control', 'max-age=100'], ['Date', t.date(0.1)], ['X-Old', '2']] });
    expect(h(reval.upstream!, 'If-None-Match')).toBe('"v1"');
    expect(h(reval.upstream!, 'If-Modified-Since')).toBe('Mon, 01 Jan 2024 00:00:00 GMT');
    expect(reval).toMatchObject({ status: 200, body: 'v1', tag: 'cache:REVALIDATED' });
    expect(h(reval.headers, 'Cache-Control')).toBe('max-age=100');
    expect(h(reval.headers, 'X-Old')).toBe('2');
    expect(h(reval.headers, 'Content-Length')).toBe('2');
    expect(h(reval.headers, 'Age')).toBe('0');
    // Fresh again for 100 s from the 304.
    t.wait(50);
    const hit = await t.run({}, NO_ORIGIN);
    expect(hit).toMatchObject({ body: 'v1', tag: 'cache:HIT' });
    expect(h(hit.headers, 'Age')).toBe('50');
  });

  it('a 304 never changes the stored body framing', async () => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'no-cache'], ['ETag', '"v1"'], ['Content-Encoding', 'gzip'], ['Content-Length', '5']], body: 'GZIPD' });
    const reval = await t.run({}, { status: 304, headers: [['ETag', '"v1"'], ['Content-Length', '0'], ['Content-Encoding', 'br']] });
    expect(reval.tag).toBe('cache:REVALIDATED');
    expect(h(reval.headers, 'Content-Encoding')).toBe('gzip');
    expect(h(reval.headers, 'Content-Length')).toBe('5');
    expect(reval.body).toBe('GZIPD');
  });

  it('stores the new response when the origin answers 200 to a revalidation', async () => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'max-age=10'], ['ETag', '"v1"']], body: 'v1' });
    t.wait(20);
    const changed = await t.run({}, { headers: [['Cache-Control', 'max-age=10'], ['ETag', '"v2"']], body: 'v2' });
    expect(changed).toMatchObject({ body: 'v2', tag: null });
    expect(t.cache.stats().entries).toBe(1);
    expect(await t.run({}, NO_ORIGIN)).toMatchObject({ body: 'v2', tag: 'cache:HIT' });
  });

  it('drops the stored copy when its replacement may not be stored', async () => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'max-age=10'], ['ETag', '"v1"']], body: 'v1' });
    t.wait(20);
    await t.run({}, { headers: [['Cache-Control', 'no-store']], body: 'v2' });
    expect(t.cache.stats().entries).toBe(0);
  });

  it('keeps the stored copy when the revalidation gets a 5xx (§4.3.3), and passes the 5xx on', async () => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'max-age=10'], ['ETag', '"v1"']], body: 'v1' });
    t.wait(20);
    const failed = await t.run({}, { status: 503, body: 'down' });
    expect(failed).toMatchObject({ status: 503, tag: null });
    expect(t.cache.stats().entries).toBe(1);
  });

  it('passes a 304 that names another representation through, drops the entry and warns', async () => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'max-age=10'], ['ETag', '"v1"']], body: 'v1' });
    t.wait(20);
    const odd = await t.run({}, { status: 304, headers: [['ETag', '"v9"']] });
    expect(odd).toMatchObject({ status: 304, tag: null });
    expect(odd.logs.some(([level]) => level === 'warn')).toBe(true);
    expect(t.cache.stats().entries).toBe(0);
  });

  it('revalidates with If-Modified-Since alone; a 304 without validators refers to the entry it validated', async () => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'max-age=10'], ['Last-Modified', 'Mon, 01 Jan 2024 00:00:00 GMT']], body: 'v1' });
    t.wait(20);
    const reval = await t.run({}, { status: 304, headers: [['Cache-Control', 'max-age=60']] });
    expect(reval.upstream!.slice(-1)).toEqual([['If-Modified-Since', 'Mon, 01 Jan 2024 00:00:00 GMT']]);
    expect(h(reval.upstream!, 'If-None-Match')).toBeUndefined();
    expect(reval).toMatchObject({ body: 'v1', tag: 'cache:REVALIDATED' });
  });

  it('revalidates a stale entry without validators with a plain request', async () => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'max-age=10']], body: 'v1' });
    t.wait(20);
    const again = await t.run({}, { headers: [['Cache-Control', 'max-age=10']], body: 'v2' });
    expect(h(again.upstream!, 'If-None-Match')).toBeUndefined();
    expect(h(again.upstream!, 'If-Modified-Since')).toBeUndefined();
    expect(again.body).toBe('v2');
  });

  it('answers a 304 to its own revalidation even after the cache was switched off or cleared meanwhile', async () => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'no-cache'], ['ETag', '"v1"']], body: 'v1' });
    const reval = await t.run({}, (upstream) => {
      expect(h(upstream, 'If-None-Match')).toBe('"v1"');
      t.toggles.enabled = false;
      t.cache.clear();
      return { status: 304, headers: [['ETag', '"v1"']] };
    });
    expect(reval).toMatchObject({ status: 200, body: 'v1', tag: 'cache:REVALIDATED' });
    expect(t.cache.stats().entries).toBe(0);
  });

  it('revalidates HEAD too and answers the 304 without a body', async () => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'no-cache'], ['ETag', '"v1"']], body: 'hello' });
    const head = await t.run({ method: 'HEAD' }, { status: 304, headers: [['ETag', '"v1"']] });
    expect(head).toMatchObject({ status: 200, body: '', tag: 'cache:REVALIDATED' });
    expect(h(head.headers, 'Content-Length')).toBe('5');
  });

  it.each<[string, HeaderPairs, number]>([
    ['a HEAD 200 with the same validators freshens the GET entry (§4.3.5)', [['ETag', '"v1"'], ['Cache-Control', 'max-age=100']], 1],
    ['a HEAD 200 with another ETag invalidates it', [['ETag', '"v2"']], 0],
    ['a HEAD 200 with another length invalidates it', [['ETag', '"v1"'], ['Content-Length', '99']], 0],
  ])('%s', async (_case, headHeaders, entries) => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'max-age=10'], ['ETag', '"v1"']], body: 'hello' });
    t.wait(20);
    // Send the HEAD with the client's own conditional so that it goes through as a plain HEAD.
    await t.run({ method: 'HEAD', headers: [['If-None-Match', '"zzz"']] }, { status: 200, headers: headHeaders });
    expect(t.cache.stats().entries).toBe(entries);
    if (entries) expect(await t.run({}, NO_ORIGIN)).toMatchObject({ tag: 'cache:HIT', body: 'hello' });
  });
});

describe('cache addon: what the client asks for (§5.2.1)', () => {
  const store = async (t: ReturnType<typeof harness>, headers: HeaderPairs = [['Cache-Control', 'max-age=60'], ['ETag', '"v1"']]) => {
    await t.run({}, { headers, body: 'v1' });
  };

  it.each<[string, HeaderPairs]>([
    ['Cache-Control: no-cache', [['Cache-Control', 'no-cache']]],
    ['Cache-Control: max-age=0', [['Cache-Control', 'max-age=0']]],
    ['Pragma: no-cache', [['Pragma', 'no-cache']]],
  ])('%s revalidates a fresh entry', async (_case, headers) => {
    const t = harness();
    await store(t);
    const r = await t.run({ headers }, { status: 304, headers: [['ETag', '"v1"']] });
    expect(h(r.upstream!, 'If-None-Match')).toBe('"v1"');
    expect(r.tag).toBe('cache:REVALIDATED');
  });

  it('max-stale accepts a stale entry, tagged STALE', async () => {
    const t = harness();
    await store(t, [['Cache-Control', 'max-age=10']]);
    t.wait(30);
    const r = await t.run({ headers: [['Cache-Control', 'max-stale=60']] }, NO_ORIGIN);
    expect(r).toMatchObject({ body: 'v1', tag: 'cache:STALE' });
    expect(h(r.headers, 'Age')).toBe('30');
  });

  it('max-stale does not beat must-revalidate', async () => {
    const t = harness();
    await store(t, [['Cache-Control', 'max-age=10, must-revalidate'], ['ETag', '"v1"']]);
    t.wait(30);
    const r = await t.run({ headers: [['Cache-Control', 'max-stale']] }, { status: 304, headers: [['ETag', '"v1"']] });
    expect(r.tag).toBe('cache:REVALIDATED');
  });

  it('only-if-cached: 504 when nothing usable is stored, the entry when it is fresh', async () => {
    const t = harness();
    const miss = await t.run({ headers: [['Cache-Control', 'only-if-cached']] }, NO_ORIGIN);
    expect(miss).toMatchObject({ status: 504, tag: 'cache:MISS' });
    await store(t);
    expect(await t.run({ headers: [['Cache-Control', 'only-if-cached']] }, NO_ORIGIN)).toMatchObject({ status: 200, tag: 'cache:HIT' });
    t.wait(120);
    expect(await t.run({ headers: [['Cache-Control', 'only-if-cached']] }, NO_ORIGIN)).toMatchObject({ status: 504 });
    expect(await t.run({ headers: [['Cache-Control', 'only-if-cached, max-stale']] }, NO_ORIGIN)).toMatchObject({ status: 200, tag: 'cache:STALE' });
  });

  it('a request with no-store may be served but its response is not stored', async () => {
    const t = harness();
    await t.run({ headers: [['Cache-Control', 'no-store']] }, { headers: [['Cache-Control', 'max-age=60']] });
    expect(t.cache.stats().entries).toBe(0);
    await store(t);
    expect((await t.run({ headers: [['Cache-Control', 'no-store']] }, NO_ORIGIN)).tag).toBe('cache:HIT');
  });

  it.each<[string, HeaderPairs, number, string]>([
    ['matching If-None-Match', [['If-None-Match', '"v1"']], 304, ''],
    ['matching If-Modified-Since', [['If-Modified-Since', 'Mon, 01 Jan 2024 00:00:00 GMT']], 304, ''],
    ['other If-None-Match', [['If-None-Match', '"v0"']], 200, 'v1'],
  ])('a fresh entry answers the client conditional itself (§4.3.2): %s', async (_case, headers, status, text) => {
    const t = harness();
    await store(t, [['Cache-Control', 'max-age=60'], ['ETag', '"v1"'], ['Last-Modified', 'Mon, 01 Jan 2024 00:00:00 GMT'], ['Content-Type', 'text/plain']]);
    const r = await t.run({ headers }, NO_ORIGIN);
    expect(r).toMatchObject({ status, body: text, tag: 'cache:HIT' });
    if (status === 304) {
      expect(h(r.headers, 'ETag')).toBe('"v1"');
      expect(h(r.headers, 'Content-Type')).toBeUndefined();
    }
  });

  it('a client conditional on a stale entry goes upstream as it is; its 304 passes through and freshens', async () => {
    const t = harness();
    await store(t, [['Cache-Control', 'max-age=10'], ['ETag', '"v1"']]);
    t.wait(20);
    const r = await t.run({ headers: [['If-None-Match', '"v1"']] }, { status: 304, headers: [['ETag', '"v1"'], ['Cache-Control', 'max-age=100']] });
    expect(r.upstream).toEqual([['If-None-Match', '"v1"']]);
    expect(r).toMatchObject({ status: 304, tag: null });
    expect(await t.run({}, NO_ORIGIN)).toMatchObject({ tag: 'cache:HIT', body: 'v1' });
  });

  it('a 304 to a client conditional without a validator leaves the entry alone', async () => {
    const t = harness();
    await store(t, [['Cache-Control', 'max-age=10'], ['ETag', '"v1"']]);
    t.wait(20);
    await t.run({ headers: [['If-None-Match', '"v0"']] }, { status: 304, headers: [['Cache-Control', 'max-age=100']] });
    const r = await t.run({}, { status: 304, headers: [['ETag', '"v1"']] });
    expect(r.tag).toBe('cache:REVALIDATED');
  });

  it.each<[string, HeaderPairs]>([
    ['Range', [['Range', 'bytes=0-1']]],
    ['If-Match', [['If-Match', '"v1"']]],
    ['If-Unmodified-Since', [['If-Unmodified-Since', 'Mon, 01 Jan 2024 00:00:00 GMT']]],
  ])('a request with %s goes straight through', async (_case, headers) => {
    const t = harness();
    await store(t);
    const r = await t.run({ headers }, { status: 206, body: 'v' });
    expect(r).toMatchObject({ tag: null, status: 206 });
    expect(r.upstream).toEqual(headers);
  });
});

describe('cache addon: Vary and credentials', () => {
  it('serves a variant only to requests with the same selecting fields (§4.1)', async () => {
    const t = harness();
    const res = (text: string): Origin => ({ headers: [['Cache-Control', 'max-age=60'], ['Vary', 'Accept-Encoding']], body: text });
    await t.run({ headers: [['Accept-Encoding', 'gzip']] }, res('gzip'));
    await t.run({ headers: [['Accept-Encoding', 'br']] }, res('br'));
    expect(t.cache.stats().entries).toBe(2);
    expect((await t.run({ headers: [['Accept-Encoding', 'gzip']] }, NO_ORIGIN)).body).toBe('gzip');
    expect((await t.run({ headers: [['Accept-Encoding', 'br']] }, NO_ORIGIN)).body).toBe('br');
    expect((await t.run({ headers: [] }, res('identity'))).tag).toBeNull();
  });

  it('does not store Vary: *', async () => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'max-age=60'], ['Vary', '*']] });
    expect(t.cache.stats().entries).toBe(0);
  });

  it('stores responses to requests with Authorization, served only to the same credentials', async () => {
    const t = harness();
    await t.run({ headers: [['Authorization', 'Bearer alice']] }, { headers: [['Cache-Control', 'max-age=60']], body: 'alice' });
    expect((await t.run({ headers: [['Authorization', 'Bearer alice']] }, NO_ORIGIN)).body).toBe('alice');
    expect((await t.run({ headers: [['Authorization', 'Bearer bob']] }, { headers: [['Cache-Control', 'max-age=60']], body: 'bob' })).tag).toBeNull();
    expect((await t.run({ headers: [] }, { body: 'anon' })).tag).toBeNull();
  });
});

describe('cache addon: invalidation by unsafe methods (§4.4)', () => {
  it.each<[string, string, number, HeaderPairs, boolean]>([
    // [case, method, status, response headers, entry survives]
    ['POST 200 invalidates', 'POST', 200, [], false],
    ['PUT 204 invalidates', 'PUT', 204, [], false],
    ['DELETE 202 invalidates', 'DELETE', 202, [], false],
    ['PATCH 302 invalidates', 'PATCH', 302, [], false],
    ['POST 500 leaves it', 'POST', 500, [], true],
    ['POST 404 leaves it', 'POST', 404, [], true],
    ['OPTIONS leaves it', 'OPTIONS', 200, [], true],
  ])('%s', async (_case, method, status, headers, survives) => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'max-age=60']] });
    await t.run({ method }, { status, headers });
    expect(t.cache.stats().entries).toBe(survives ? 1 : 0);
  });

  it('invalidates a same-origin Location as well, and does so while the cache is off', async () => {
    const t = harness();
    await t.run({ path: '/items/2' }, { headers: [['Cache-Control', 'max-age=60']] });
    t.toggles.enabled = false;
    await t.run({ method: 'POST', path: '/items' }, { status: 201, headers: [['Location', '/items/2']] });
    expect(t.cache.stats().entries).toBe(0);
  });
});

describe('cache addon: storing', () => {
  it('strips hop-by-hop fields and supplies Date and Content-Length', async () => {
    const t = harness();
    const date = t.date(0.1);
    await t.run({}, {
      headers: [['Cache-Control', 'max-age=60'], ['Connection', 'keep-alive, X-Hop'], ['Keep-Alive', 'timeout=5'], ['X-Hop', '1'], ['Transfer-Encoding', 'chunked'], ['X-Kept', 'yes']],
      body: 'abc',
    });
    const hit = await t.run({}, NO_ORIGIN);
    expect(hit.headers.map(([k]) => k)).toEqual(['Cache-Control', 'X-Kept', 'Date', 'Content-Length', 'Age']);
    expect(h(hit.headers, 'Date')).toBe(date);
    expect(h(hit.headers, 'Content-Length')).toBe('3');
  });

  it.each<[string, Origin]>([
    ['a body shorter than Content-Length', { headers: [['Cache-Control', 'max-age=60'], ['Content-Length', '10']], body: 'short' }],
    ['a garbled Content-Length', { headers: [['Cache-Control', 'max-age=60'], ['Content-Length', 'five']], body: 'short' }],
    ['a body cut short (observed as null)', { headers: [['Cache-Control', 'max-age=60']], body: 'short', bodyCut: true }],
  ])('does not store %s', async (_case, origin) => {
    const t = harness();
    await t.run({}, origin);
    expect(t.cache.stats().entries).toBe(0);
  });

  it('observes at most the per-entry limit and keeps the store within its bytes', async () => {
    const t = harness({ maxBytes: 4200, maxEntryBytes: 1500 }); // an entry here counts about 1.4 kB
    await t.run({ path: '/big' }, { headers: [['Cache-Control', 'max-age=60']], body: 'x'.repeat(1600) });
    expect(t.cache.stats().entries).toBe(0);
    for (const p of ['/1', '/2', '/3', '/4']) await t.run({ path: p }, { headers: [['Cache-Control', 'max-age=60']], body: 'y'.repeat(1000) });
    const s = t.cache.stats();
    expect(s.bytes).toBeLessThanOrEqual(4200);
    expect(s.entries).toBe(3);
    // The oldest went first.
    expect((await t.run({ path: '/1' }, { body: 'again' })).tag).toBeNull();
    expect((await t.run({ path: '/4' }, NO_ORIGIN)).tag).toBe('cache:HIT');
  });

  it.each<[string, (headers: HeaderPairs) => HeaderPairs, number, string | undefined]>([
    ['a field added by a later rule is stored', (hs) => [...hs, ['X-Rewritten', 'yes']], 1, 'yes'],
    ['no-store added by a later rule prevents storing', (hs) => [...hs, ['Cache-Control', 'no-store']], 0, undefined],
  ])('stores the head as the client got it, read when the body is done: %s', async (_case, later, entries, rewritten) => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'max-age=60']], body: 'v1', later });
    expect(t.cache.stats().entries).toBe(entries);
    if (entries) expect(h((await t.run({}, NO_ORIGIN)).headers, 'X-Rewritten')).toBe(rewritten);
  });

  it('does not store its own answers again if a later stage hands them to responseHeaders', async () => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'max-age=60']], body: 'v1' });
    t.wait(5);
    const hit = await t.run({}, NO_ORIGIN);
    const ctx = { log: () => {}, throttle: () => {}, transformRequestBody: () => {}, transformResponseBody: () => {}, observeResponseBody: () => {
      throw new Error('observed a cache hit');
    } };
    hit.flow.response = { status: 200, statusText: 'OK', httpVersion: '1.1', headers: hit.headers, trailers: null, body: body('v1') };
    expect(await t.addon.responseHeaders!(hit.flow, ctx)).toBeUndefined();
  });
});

describe('cache addon: switches', () => {
  it('neither serves nor stores while off, and serves again when switched back on', async () => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'max-age=60']], body: 'v1' });
    t.toggles.enabled = false;
    expect((await t.run({}, { headers: [['Cache-Control', 'max-age=60']], body: 'v2' })).body).toBe('v2');
    await t.run({ path: '/other' }, { headers: [['Cache-Control', 'max-age=60']] });
    expect(t.cache.stats().entries).toBe(1);
    t.toggles.enabled = true;
    expect(await t.run({}, NO_ORIGIN)).toMatchObject({ body: 'v1', tag: 'cache:HIT' });
  });

  it('neither serves nor stores while "no caching" is on', async () => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'max-age=60']], body: 'v1' });
    t.toggles.bypass = true;
    expect((await t.run({}, { headers: [['Cache-Control', 'max-age=60']], body: 'v2' })).tag).toBeNull();
    await t.run({ path: '/other' }, { headers: [['Cache-Control', 'max-age=60']] });
    expect(t.cache.stats().entries).toBe(1);
    expect((await t.run({ headers: [['Cache-Control', 'only-if-cached']] }, { body: 'v3' })).status).toBe(200);
  });

  it('explains itself in one line', async () => {
    const t = harness();
    expect(t.addon.explain()).toBe('response cache (private, RFC 9111): 0 entries, 0 B of 256 MB');
    await t.run({}, { headers: [['Cache-Control', 'max-age=60']], body: 'x'.repeat(1_258_000) });
    expect(t.addon.explain()).toBe('response cache (private, RFC 9111): 1 entry, 1.2 MB of 256 MB');
    t.toggles.bypass = true;
    expect(t.addon.explain()).toBe('response cache (private, RFC 9111): bypassed by "no caching", 1 entry, 1.2 MB of 256 MB');
    t.toggles.enabled = false;
    expect(t.addon.explain()).toBe('response cache (private, RFC 9111): off, 1 entry, 1.2 MB of 256 MB');
  });

  it.each<[number, string]>([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1 KB'],
    [1536, '1.5 KB'],
    [150 * 1024, '150 KB'],
    [268435456, '256 MB'],
    [3 * 1024 ** 3, '3 GB'],
  ])('formatBytes(%d) = %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});

describe('cache addon: the origin cannot be reached (§4.2.4)', () => {
  const stale = async (t: ReturnType<typeof harness>, cc: string) => {
    await t.run({}, { headers: [['Cache-Control', cc], ['ETag', '"v1"']], body: 'v1' });
    t.wait(100);
  };

  it.each<[string, string, HeaderPairs, FlowErrorCode, string | null]>([
    // [case, stored Cache-Control, request headers, error, tag]
    ['refused: stale copy served', 'max-age=10', [], 'UPSTREAM_REFUSED', 'cache:STALE'],
    ['timeout', 'max-age=10', [], 'UPSTREAM_TIMEOUT', 'cache:STALE'],
    ['DNS', 'max-age=10', [], 'UPSTREAM_DNS', 'cache:STALE'],
    ['must-revalidate forbids it', 'max-age=10, must-revalidate', [], 'UPSTREAM_REFUSED', null],
    ['response no-cache forbids it', 'no-cache', [], 'UPSTREAM_REFUSED', null],
    ['the client asked for validation', 'max-age=10', [['Cache-Control', 'no-cache']], 'UPSTREAM_REFUSED', null],
    ['a certificate problem is never hidden', 'max-age=10', [], 'UPSTREAM_CERT_UNTRUSTED', null],
    ['a killed flow is not rescued', 'max-age=10', [], 'KILLED', null],
  ])('%s', async (_case, cc, headers, code, tag) => {
    const t = harness();
    await stale(t, cc);
    const r = await t.run({ headers }, { error: code });
    expect(r.tag).toBe(tag);
    if (tag) {
      expect(r.body).toBe('v1');
      expect(h(r.headers, 'Age')).toBe('100');
      expect(r.logs.some(([level]) => level === 'info')).toBe(true);
    }
  });

  it('does not serve while the cache is off', async () => {
    const t = harness();
    await t.run({}, { headers: [['Cache-Control', 'max-age=10']], body: 'v1' });
    t.wait(100);
    t.toggles.enabled = false;
    expect((await t.run({}, { error: 'UPSTREAM_REFUSED' })).tag).toBeNull();
  });
});

describe('cache addon: never throws on odd input', () => {
  it.each<[string, HeaderPairs]>([
    ['garbage everywhere', [['Cache-Control', '="",,,max-age=="'], ['Date', '???'], ['Expires', '-1'], ['Age', 'abc'], ['Vary', ',,'], ['ETag', '']]],
    ['huge numbers', [['Cache-Control', 'max-age=999999999999999999999999'], ['Age', '99999999999999999999']]],
    ['unterminated quotes', [['Cache-Control', 'private="'], ['ETag', '"']]],
  ])('%s', async (_case, headers) => {
    const t = harness();
    await t.run({}, { headers, body: 'v1' });
    t.wait(1);
    const r = await t.run({}, { status: 304, headers: [['ETag', '"']] });
    expect(r.status).toBeGreaterThan(0);
    for (const [, v] of r.headers) expect(typeof v).toBe('string');
  });
});
