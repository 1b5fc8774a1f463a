/**
 * The response cache through the real proxy (issue 6): a private RFC 9111 cache switched on and
 * off live. Every case asserts what the client got (status, body, `Age`), how many requests the
 * origin saw, and the `cache:*` tag on the flow: HIT (fresh), STALE (served stale), REVALIDATED
 * (a 304 to our own conditional turned into the stored 200), MISS (only-if-cached with nothing
 * stored). Freshness is driven by the headers (max-age=0, Expires and Date in the past, an old
 * Last-Modified), never by sleeping.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type http2 from 'node:http2';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Flow } from '../../src/proxy/core/flow.js';
import { startCacheOrigin, type CacheOrigin, type CacheOriginOptions, type Reply, type SeenRequest } from '../helpers/cache-origin.js';
import { curlRequest } from '../helpers/curl.js';
import { openH2Tunnel } from '../helpers/h2-tunnel.js';
import { isFinished, startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { fixtureCaPaths } from '../helpers/test-ca.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

const proxyCaPem = readFileSync(fixtureCaPaths.cert, 'utf8');
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

/** An IMF-fixdate (RFC 9110 §5.6.7) `offsetMs` from now. */
function httpDate(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toUTCString();
}

/** The cache's tags on a flow, in order. */
function cacheTags(flow: Flow): string[] {
  return flow.tags.filter((t) => t.startsWith('cache:'));
}

/** What a client received, and the flow the proxy recorded for it. */
interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  flow: Flow;
}

const origins: CacheOrigin[] = [];
const h2Sessions = new Set<http2.ClientHttp2Session>();
const rawSockets = new Set<net.Socket>();

async function origin(opts: CacheOriginOptions = {}): Promise<CacheOrigin> {
  const o = await startCacheOrigin(opts);
  origins.push(o);
  return o;
}

/** A proxy with the cache switched on by the config file, as `cache: { enabled: true }` does. */
function cachingProxy(cache: { maxBytes?: number } = {}): Promise<TestProxy> {
  return startProxy({ config: { cache: { enabled: true, ...cache } } });
}

/** HTTP exchanges recorded so far (CONNECT tunnels are flows of their own). */
function httpFlows(proxy: TestProxy): Flow[] {
  return proxy.flows().filter((f) => f.kind === 'http');
}

/** Run `send` (one request) and return the finished HTTP flow it made. */
async function flowOf<T>(proxy: TestProxy, send: () => Promise<T>): Promise<{ result: T; flow: Flow }> {
  const before = httpFlows(proxy).length;
  const result = await send();
  const flow = await waitFor(
    () => {
      const f = httpFlows(proxy)[before];
      return f && isFinished(f) ? f : undefined;
    },
    { timeoutMs: 5000, message: `HTTP flow #${before + 1} to finish` },
  );
  return { result, flow };
}

/**
 * One request through the proxy with Node's http client, in absolute form as `curl -x` sends it,
 * on a fresh connection (`agent: false`). Bounded: the socket is destroyed after 5 s.
 */
function request(proxy: TestProxy, url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Got> {
  const send = () =>
    withTimeout(
      new Promise<Omit<Got, 'flow'>>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1',
          port: proxy.port,
          method: opts.method ?? 'GET',
          path: url,
          headers: { host: new URL(url).host, ...opts.headers },
          agent: false,
          timeout: 5000,
        });
        req.on('timeout', () => req.destroy(new Error(`no response from the proxy for ${url}`)));
        req.on('error', reject);
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        });
        req.end(opts.body);
      }),
      6000,
      `${opts.method ?? 'GET'} ${url} through the proxy`,
    );
  return flowOf(proxy, send).then(({ result, flow }) => ({ ...result, flow }));
}

/** A GET with `curl -x`, intercepted over CONNECT + TLS with the proxy CA trusted. */
async function curlGet(proxy: TestProxy, url: string): Promise<Got> {
  const { result, flow } = await flowOf(proxy, () => curlRequest(url, { proxy: proxy.url, cacert: fixtureCaPaths.cert, timeoutMs: 5000 }));
  expect(result.exitCode, result.stderr).toBe(0);
  const headers: http.IncomingHttpHeaders = {};
  for (const [k, v] of result.headers) headers[k.toLowerCase()] = v;
  return { status: result.status, headers, body: result.body.toString('utf8'), flow };
}

/** One GET on an HTTP/2 session tunnelled through the proxy. */
async function h2Get(proxy: TestProxy, session: http2.ClientHttp2Session, path: string): Promise<Got> {
  const send = () =>
    withTimeout(
      new Promise<Omit<Got, 'flow'>>((resolve, reject) => {
        const stream = session.request({ ':method': 'GET', ':path': path });
        let headers: http2.IncomingHttpHeaders = {};
        const chunks: Buffer[] = [];
        stream.on('response', (h) => (headers = h));
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks).toString('utf8') }));
        stream.on('error', reject);
        stream.end();
      }),
      5000,
      `HTTP/2 GET ${path} through the proxy`,
    );
  const { result, flow } = await flowOf(proxy, send);
  return { ...result, flow };
}

/** `Age` as a number; fails the test when it is missing or not a delta-seconds. */
function ageOf(got: Got): number {
  const age = got.headers['age'];
  expect(age, 'Age header on a response served from the cache').toMatch(/^\d+$/);
  return Number(age);
}

/** A script answering `304` (with `notModified` fields) when `If-None-Match` names `etag`, else `fresh`. */
function etagScript(etag: string, fresh: (n: number) => Reply, notModified: Array<[string, string]> = []): (req: SeenRequest, n: number) => Reply {
  return (req, n) => (req.headers['if-none-match'] === etag ? { status: 304, headers: [['ETag', etag], ...notModified] } : fresh(n));
}

afterEach(async () => {
  for (const s of h2Sessions) s.destroy();
  h2Sessions.clear();
  for (const s of rawSockets) s.destroy();
  rawSockets.clear();
  await stopAllProxies();
  await Promise.all(origins.splice(0).map((o) => o.close()));
});

describe('cache hits', () => {
  it('serves a max-age=60 response from the cache over plain HTTP: one origin request, cache:HIT, Age', async () => {
    const o = await origin();
    o.route('/fresh', (_req, n) => ({ headers: [['Cache-Control', 'max-age=60'], ['Content-Type', 'text/plain']], body: `fresh #${n}` }));
    // The origin says the response is already 30 s old (it came through another cache).
    o.route('/aged', (_req, n) => ({ headers: [['Cache-Control', 'max-age=60'], ['Age', '30']], body: `aged #${n}` }));
    const proxy = await cachingProxy();

    const first = await request(proxy, `${o.url}/fresh`);
    expect(first.status).toBe(200);
    expect(first.body).toBe('fresh #1');
    expect(cacheTags(first.flow)).toEqual([]);

    const second = await request(proxy, `${o.url}/fresh`);
    expect(second.status).toBe(200);
    expect(second.body).toBe('fresh #1');
    expect(second.headers['content-type']).toBe('text/plain');
    expect(ageOf(second)).toBeLessThanOrEqual(2);
    expect(cacheTags(second.flow)).toEqual(['cache:HIT']);
    expect(o.seen('/fresh')).toHaveLength(1);

    await request(proxy, `${o.url}/aged`);
    const aged = await request(proxy, `${o.url}/aged`);
    expect(aged.body).toBe('aged #1');
    expect(ageOf(aged)).toBeGreaterThanOrEqual(30);
    expect(ageOf(aged)).toBeLessThanOrEqual(32);
    expect(cacheTags(aged.flow)).toEqual(['cache:HIT']);
    expect(o.seen('/aged')).toHaveLength(1);
  });

  it('answers HEAD from a stored GET, and stores a chunked response with its length', async () => {
    const o = await origin();
    o.route('/chunked', (_req, n) => ({ headers: [['Cache-Control', 'max-age=60']], body: `chunked body #${n}`, chunked: true }));
    const proxy = await cachingProxy();

    const first = await request(proxy, `${o.url}/chunked`);
    expect(first.body).toBe('chunked body #1');
    expect(first.headers['transfer-encoding']).toBe('chunked');

    const head = await request(proxy, `${o.url}/chunked`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(String('chunked body #1'.length));
    expect(ageOf(head)).toBeLessThanOrEqual(2);
    expect(cacheTags(head.flow)).toEqual(['cache:HIT']);

    const get = await request(proxy, `${o.url}/chunked`);
    expect(get.body).toBe('chunked body #1');
    expect(get.headers['content-length']).toBe(String('chunked body #1'.length));
    expect(cacheTags(get.flow)).toEqual(['cache:HIT']);
    expect(o.seen('/chunked')).toHaveLength(1);
  });

  it('serves from the cache over HTTPS intercepted through CONNECT (curl -x)', async () => {
    const o = await origin({ tls: true });
    o.route('/tls', (_req, n) => ({ headers: [['Cache-Control', 'max-age=60']], body: `tls #${n}` }));
    const proxy = await cachingProxy();

    const first = await curlGet(proxy, `${o.url}/tls`);
    expect(first.status).toBe(200);
    expect(first.body).toBe('tls #1');
    expect(first.flow.request.scheme).toBe('https');
    expect(cacheTags(first.flow)).toEqual([]);

    const second = await curlGet(proxy, `${o.url}/tls`);
    expect(second.status).toBe(200);
    expect(second.body).toBe('tls #1');
    expect(ageOf(second)).toBeLessThanOrEqual(2);
    expect(second.flow.request.scheme).toBe('https');
    expect(cacheTags(second.flow)).toEqual(['cache:HIT']);
    expect(o.seen('/tls')).toHaveLength(1);
  });

  it('serves an HTTP/2 client from the cache, and the entry it stored serves HTTP/1.1 clients too', async () => {
    const o = await origin({ tls: true });
    o.route('/h2', (_req, n) => ({ headers: [['Cache-Control', 'max-age=60']], body: `h2 #${n}` }));
    const proxy = await cachingProxy();
    const session = await openH2Tunnel(proxy.port, o.port, proxyCaPem, (raw) => rawSockets.add(raw));
    h2Sessions.add(session);

    const first = await h2Get(proxy, session, '/h2');
    expect(first.status).toBe(200);
    expect(first.body).toBe('h2 #1');
    expect(first.flow.request.httpVersion).toBe('2');
    expect(cacheTags(first.flow)).toEqual([]);

    const second = await h2Get(proxy, session, '/h2');
    expect(second.status).toBe(200);
    expect(second.body).toBe('h2 #1');
    expect(ageOf(second)).toBeLessThanOrEqual(2);
    expect(cacheTags(second.flow)).toEqual(['cache:HIT']);

    // Rules never branch on the HTTP version: the same URL over HTTP/1.1 is the same entry.
    const h1 = await curlGet(proxy, `${o.url}/h2`);
    expect(h1.body).toBe('h2 #1');
    expect(cacheTags(h1.flow)).toEqual(['cache:HIT']);
    expect(o.seen('/h2')).toHaveLength(1);
  });
});

describe('freshness', () => {
  it.each<{ name: string; headers: () => Array<[string, string]>; hit: boolean }>([
    { name: 'Expires an hour after Date', headers: () => [['Expires', httpDate(HOUR)]], hit: true },
    { name: 'Expires before Date (already stale)', headers: () => [['Expires', httpDate(-HOUR)]], hit: false },
    { name: 'heuristic: Last-Modified 10 days ago, no max-age (10% = 1 day)', headers: () => [['Last-Modified', httpDate(-10 * DAY)]], hit: true },
    { name: 's-maxage=600 alone (for shared caches; a private cache ignores it)', headers: () => [['Cache-Control', 's-maxage=600']], hit: false },
    { name: 'max-age=60 wins over a past Expires', headers: () => [['Cache-Control', 'max-age=60'], ['Expires', httpDate(-HOUR)]], hit: true },
    // Age is counted from Date (apparent age, RFC 9111 §4.2.3): two hours old is past max-age=3600.
    { name: 'max-age=3600 with a Date two hours ago', headers: () => [['Cache-Control', 'max-age=3600'], ['Date', httpDate(-2 * HOUR)]], hit: false },
  ])('$name → served from the cache: $hit', async ({ headers, hit }) => {
    const o = await origin();
    o.route('/f', (_req, n) => ({ headers: headers(), body: `f #${n}` }));
    const proxy = await cachingProxy();

    const first = await request(proxy, `${o.url}/f`);
    expect(first.body).toBe('f #1');
    const second = await request(proxy, `${o.url}/f`);
    expect(second.status).toBe(200);
    if (hit) {
      expect(second.body).toBe('f #1');
      expect(ageOf(second)).toBeLessThanOrEqual(2);
      expect(cacheTags(second.flow)).toEqual(['cache:HIT']);
      expect(o.seen('/f')).toHaveLength(1);
    } else {
      expect(second.body).toBe('f #2');
      expect(cacheTags(second.flow)).toEqual([]);
      expect(o.seen('/f')).toHaveLength(2);
    }
  });
});

describe('revalidation', () => {
  it('revalidates a stale entry with If-None-Match; the 304 becomes the stored 200 (REVALIDATED) and refreshes the entry', async () => {
    const o = await origin();
    o.route(
      '/etag',
      etagScript('"v1"', (n) => ({ headers: [['Cache-Control', 'max-age=0'], ['ETag', '"v1"'], ['X-Origin-Response', String(n)]], body: `etag body #${n}` }), [
        // The 304 extends freshness: the refreshed entry is fresh for a minute.
        ['Cache-Control', 'max-age=60'],
      ]),
    );
    const proxy = await cachingProxy();

    const first = await request(proxy, `${o.url}/etag`);
    expect(first.body).toBe('etag body #1');
    expect(o.seen('/etag')[0]!.headers['if-none-match']).toBeUndefined();

    const second = await request(proxy, `${o.url}/etag`);
    expect(o.seen('/etag')).toHaveLength(2);
    expect(o.seen('/etag')[1]!.headers['if-none-match']).toBe('"v1"');
    expect(second.status).toBe(200);
    expect(second.body).toBe('etag body #1');
    expect(second.headers['etag']).toBe('"v1"');
    expect(second.headers['x-origin-response']).toBe('1');
    // The fields of the 304 replaced the stored ones (RFC 9111 §4.3.4).
    expect(second.headers['cache-control']).toBe('max-age=60');
    expect(ageOf(second)).toBeLessThanOrEqual(2);
    expect(cacheTags(second.flow)).toEqual(['cache:REVALIDATED']);

    const third = await request(proxy, `${o.url}/etag`);
    expect(third.status).toBe(200);
    expect(third.body).toBe('etag body #1');
    expect(cacheTags(third.flow)).toEqual(['cache:HIT']);
    expect(o.seen('/etag')).toHaveLength(2);
  });

  it('revalidates with If-Modified-Since; a 304 that does not extend freshness leaves the entry to be revalidated again', async () => {
    const o = await origin();
    const lastModified = httpDate(-DAY);
    o.route('/lm', (req, n) =>
      req.headers['if-modified-since'] === lastModified
        ? { status: 304, headers: [] }
        : { headers: [['Cache-Control', 'max-age=0'], ['Last-Modified', lastModified]], body: `lm body #${n}` },
    );
    const proxy = await cachingProxy();

    await request(proxy, `${o.url}/lm`);
    for (const expected of [2, 3]) {
      const got = await request(proxy, `${o.url}/lm`);
      expect(got.status).toBe(200);
      expect(got.body).toBe('lm body #1');
      expect(got.headers['last-modified']).toBe(lastModified);
      expect(cacheTags(got.flow)).toEqual(['cache:REVALIDATED']);
      const seen = o.seen('/lm');
      expect(seen).toHaveLength(expected);
      expect(seen.at(-1)!.headers['if-modified-since']).toBe(lastModified);
      expect(seen.at(-1)!.headers['if-none-match']).toBeUndefined();
    }
  });

  it('a 200 to the revalidation replaces the entry: the client gets the new body and the next revalidation sends the new ETag', async () => {
    const o = await origin();
    o.route('/changed', (req, n) => {
      if (n === 3 && req.headers['if-none-match'] === '"v2"') return { status: 304, headers: [['ETag', '"v2"']] };
      return { headers: [['Cache-Control', 'max-age=0'], ['ETag', `"v${n}"`]], body: `version ${n}` };
    });
    const proxy = await cachingProxy();

    await request(proxy, `${o.url}/changed`);
    const changed = await request(proxy, `${o.url}/changed`);
    expect(o.seen('/changed')[1]!.headers['if-none-match']).toBe('"v1"');
    expect(changed.body).toBe('version 2');
    expect(changed.headers['etag']).toBe('"v2"');
    expect(cacheTags(changed.flow)).toEqual([]);

    const again = await request(proxy, `${o.url}/changed`);
    expect(o.seen('/changed')[2]!.headers['if-none-match']).toBe('"v2"');
    expect(again.body).toBe('version 2');
    expect(cacheTags(again.flow)).toEqual(['cache:REVALIDATED']);
  });

  it('revalidates against an HTTP/2 origin the same way', async () => {
    const o = await origin({ http2: true });
    o.route('/h2etag', etagScript('"h2"', (n) => ({ headers: [['Cache-Control', 'max-age=0'], ['ETag', '"h2"']], body: `h2 etag #${n}` }), [['Cache-Control', 'max-age=60']]));
    const proxy = await cachingProxy();

    expect((await curlGet(proxy, `${o.url}/h2etag`)).body).toBe('h2 etag #1');
    const revalidated = await curlGet(proxy, `${o.url}/h2etag`);
    expect(revalidated.status).toBe(200);
    expect(revalidated.body).toBe('h2 etag #1');
    expect(ageOf(revalidated)).toBeLessThanOrEqual(2);
    expect(cacheTags(revalidated.flow)).toEqual(['cache:REVALIDATED']);
    const seen = o.seen('/h2etag');
    expect(seen.map((r) => r.httpVersion)).toEqual(['2.0', '2.0']);
    expect(seen[1]!.headers['if-none-match']).toBe('"h2"');

    expect(cacheTags((await curlGet(proxy, `${o.url}/h2etag`)).flow)).toEqual(['cache:HIT']);
    expect(o.seen('/h2etag')).toHaveLength(2);
  });

  it('revalidates a fresh entry when the client reloads (max-age=0 or Pragma: no-cache)', async () => {
    const o = await origin();
    o.route('/reload', etagScript('"r"', (n) => ({ headers: [['Cache-Control', 'max-age=60'], ['ETag', '"r"']], body: `reload #${n}` })));
    const proxy = await cachingProxy();

    await request(proxy, `${o.url}/reload`);
    for (const [headers, expected] of [[{ 'Cache-Control': 'max-age=0' }, 2], [{ Pragma: 'no-cache' }, 3]] as const) {
      const got = await request(proxy, `${o.url}/reload`, { headers });
      expect(got.status).toBe(200);
      expect(got.body).toBe('reload #1');
      expect(cacheTags(got.flow)).toEqual(['cache:REVALIDATED']);
      expect(o.seen('/reload')).toHaveLength(expected);
      expect(o.seen('/reload').at(-1)!.headers['if-none-match']).toBe('"r"');
    }
    expect(cacheTags((await request(proxy, `${o.url}/reload`)).flow)).toEqual(['cache:HIT']);
    expect(o.seen('/reload')).toHaveLength(3);
  });

  it("passes a client's own If-None-Match on a stale entry to the origin; the 304 goes to the client and freshens the entry", async () => {
    const o = await origin();
    o.route('/own', etagScript('"o"', (n) => ({ headers: [['Cache-Control', 'max-age=0'], ['ETag', '"o"']], body: `own #${n}` }), [['Cache-Control', 'max-age=60']]));
    const proxy = await cachingProxy();

    await request(proxy, `${o.url}/own`);
    const conditional = await request(proxy, `${o.url}/own`, { headers: { 'If-None-Match': '"o"' } });
    expect(conditional.status).toBe(304);
    expect(conditional.body).toBe('');
    expect(cacheTags(conditional.flow)).toEqual([]);
    expect(o.seen('/own')[1]!.headers['if-none-match']).toBe('"o"');

    const plain = await request(proxy, `${o.url}/own`);
    expect(plain.status).toBe(200);
    expect(plain.body).toBe('own #1');
    expect(plain.headers['cache-control']).toBe('max-age=60');
    expect(cacheTags(plain.flow)).toEqual(['cache:HIT']);
    expect(o.seen('/own')).toHaveLength(2);
  });

  it("answers a client's own If-None-Match from a fresh entry with a 304, without the origin", async () => {
    const o = await origin();
    o.route('/cond', (_req, n) => ({ headers: [['Cache-Control', 'max-age=60'], ['ETag', '"c1"']], body: `cond #${n}` }));
    const proxy = await cachingProxy();

    await request(proxy, `${o.url}/cond`);
    const got = await request(proxy, `${o.url}/cond`, { headers: { 'If-None-Match': '"c1"' } });
    expect(got.status).toBe(304);
    expect(got.body).toBe('');
    expect(got.headers['etag']).toBe('"c1"');
    expect(cacheTags(got.flow)).toEqual(['cache:HIT']);
    expect(o.seen('/cond')).toHaveLength(1);
  });
});

describe('stale copies', () => {
  it('serves a stale copy when the origin is gone (cache:STALE), and when the client accepts it with max-stale', async () => {
    const o = await origin();
    o.route('/gone', (_req, n) => ({ headers: [['Cache-Control', 'max-age=0'], ['Content-Type', 'text/plain']], body: `kept #${n}` }));
    const proxy = await cachingProxy();

    const first = await request(proxy, `${o.url}/gone`);
    expect(first.body).toBe('kept #1');

    // The client accepts a stale response (RFC 9111 §5.2.1.2): no trip to the origin.
    const tolerated = await request(proxy, `${o.url}/gone`, { headers: { 'Cache-Control': 'max-stale=3600' } });
    expect(tolerated.status).toBe(200);
    expect(tolerated.body).toBe('kept #1');
    expect(ageOf(tolerated)).toBeLessThanOrEqual(2);
    expect(cacheTags(tolerated.flow)).toEqual(['cache:STALE']);
    expect(o.seen('/gone')).toHaveLength(1);

    await o.close();
    const stale = await request(proxy, `${o.url}/gone`);
    expect(stale.status).toBe(200);
    expect(stale.body).toBe('kept #1');
    expect(stale.headers['content-type']).toBe('text/plain');
    expect(stale.headers['x-proxyctl-error']).toBeUndefined();
    expect(ageOf(stale)).toBeLessThanOrEqual(2);
    expect(cacheTags(stale.flow)).toEqual(['cache:STALE']);
    expect(o.seen('/gone')).toHaveLength(1);
  });

  it('serves a stale copy over HTTPS through CONNECT when the origin is gone', async () => {
    const o = await origin({ tls: true });
    o.route('/gone', (_req, n) => ({ headers: [['Cache-Control', 'max-age=0']], body: `tls kept #${n}` }));
    const proxy = await cachingProxy();

    expect((await curlGet(proxy, `${o.url}/gone`)).body).toBe('tls kept #1');
    await o.close();
    const stale = await curlGet(proxy, `${o.url}/gone`);
    expect(stale.status).toBe(200);
    expect(stale.body).toBe('tls kept #1');
    expect(ageOf(stale)).toBeLessThanOrEqual(2);
    expect(cacheTags(stale.flow)).toEqual(['cache:STALE']);
    expect(o.seen('/gone')).toHaveLength(1);
  });

  it('gives the 502 error page instead when the stale copy says must-revalidate', async () => {
    const o = await origin();
    o.route('/strict', (_req, n) => ({ headers: [['Cache-Control', 'max-age=0, must-revalidate']], body: `strict #${n}` }));
    const proxy = await cachingProxy();

    expect((await request(proxy, `${o.url}/strict`)).body).toBe('strict #1');
    await o.close();

    const got = await request(proxy, `${o.url}/strict`);
    expect(got.status).toBe(502);
    const code = got.headers['x-proxyctl-error'];
    expect(['UPSTREAM_REFUSED', 'UPSTREAM_RESET']).toContain(code);
    expect(got.body).toContain(String(code));
    expect(got.body).not.toContain('strict #1');
    expect(cacheTags(got.flow)).toEqual([]);
    expect(got.flow.error?.code).toBe(code);
  });
});

describe('Vary and implicit variants', () => {
  it('keeps one entry per Accept-Language; the same value is a HIT', async () => {
    const o = await origin();
    o.route('/v', (req, n) => ({
      headers: [['Cache-Control', 'max-age=60'], ['Vary', 'Accept-Language']],
      body: `lang=${req.headers['accept-language'] ?? '-'} #${n}`,
    }));
    const proxy = await cachingProxy();
    const get = (lang?: string) => request(proxy, `${o.url}/v`, lang ? { headers: { 'Accept-Language': lang } } : {});

    expect((await get('en')).body).toBe('lang=en #1');
    const fr = await get('fr');
    expect(fr.body).toBe('lang=fr #2');
    expect(cacheTags(fr.flow)).toEqual([]);

    const en = await get('en');
    expect(en.body).toBe('lang=en #1');
    expect(cacheTags(en.flow)).toEqual(['cache:HIT']);
    const frAgain = await get('fr');
    expect(frAgain.body).toBe('lang=fr #2');
    expect(cacheTags(frAgain.flow)).toEqual(['cache:HIT']);
    expect(o.seen('/v')).toHaveLength(2);

    // No Accept-Language at all is a variant of its own.
    const none = await get();
    expect(none.body).toBe('lang=- #3');
    expect(cacheTags(none.flow)).toEqual([]);
    expect(o.seen('/v')).toHaveLength(3);
  });

  it('never serves one Authorization’s response to another (an implicit Vary)', async () => {
    const o = await origin();
    o.route('/me', (req, n) => ({ headers: [['Cache-Control', 'private, max-age=60']], body: `${req.headers['authorization']} #${n}` }));
    const proxy = await cachingProxy();
    const get = (token: string) => request(proxy, `${o.url}/me`, { headers: { Authorization: `Bearer ${token}` } });

    expect((await get('alice')).body).toBe('Bearer alice #1');
    const bob = await get('bob');
    expect(bob.body).toBe('Bearer bob #2');
    expect(cacheTags(bob.flow)).toEqual([]);
    const alice = await get('alice');
    expect(alice.body).toBe('Bearer alice #1');
    expect(cacheTags(alice.flow)).toEqual(['cache:HIT']);
    expect(o.seen('/me')).toHaveLength(2);
  });
});

describe('Cache-Control directives', () => {
  it('never serves a no-store response from the cache', async () => {
    const o = await origin();
    o.route('/nostore', (_req, n) => ({ headers: [['Cache-Control', 'no-store, max-age=60']], body: `nostore #${n}` }));
    const proxy = await cachingProxy();

    for (const n of [1, 2, 3]) {
      const got = await request(proxy, `${o.url}/nostore`);
      expect(got.body).toBe(`nostore #${n}`);
      expect(got.headers['age']).toBeUndefined();
      expect(cacheTags(got.flow)).toEqual([]);
    }
    expect(o.seen('/nostore')).toHaveLength(3);
  });

  it('stores a no-cache response but revalidates it on every use', async () => {
    const o = await origin();
    o.route('/nocache', etagScript('"nc"', (n) => ({ headers: [['Cache-Control', 'no-cache, max-age=60'], ['ETag', '"nc"']], body: `nocache #${n}` })));
    const proxy = await cachingProxy();

    await request(proxy, `${o.url}/nocache`);
    for (const expected of [2, 3]) {
      const got = await request(proxy, `${o.url}/nocache`);
      expect(got.status).toBe(200);
      expect(got.body).toBe('nocache #1');
      expect(cacheTags(got.flow)).toEqual(['cache:REVALIDATED']);
      expect(o.seen('/nocache')).toHaveLength(expected);
      expect(o.seen('/nocache').at(-1)!.headers['if-none-match']).toBe('"nc"');
    }
  });

  it('stores a private response (this is a private cache)', async () => {
    const o = await origin();
    o.route('/private', (_req, n) => ({ headers: [['Cache-Control', 'private, max-age=60']], body: `private #${n}` }));
    const proxy = await cachingProxy();

    await request(proxy, `${o.url}/private`);
    const got = await request(proxy, `${o.url}/private`);
    expect(got.body).toBe('private #1');
    expect(cacheTags(got.flow)).toEqual(['cache:HIT']);
    expect(o.seen('/private')).toHaveLength(1);
  });

  it('lets Range requests through to the origin, and answers only-if-cached with 504 when nothing is stored', async () => {
    const o = await origin();
    o.route('/r', (_req, n) => ({ headers: [['Cache-Control', 'max-age=60']], body: `r #${n}` }));
    const proxy = await cachingProxy();

    const miss = await request(proxy, `${o.url}/r`, { headers: { 'Cache-Control': 'only-if-cached' } });
    expect(miss.status).toBe(504);
    expect(cacheTags(miss.flow)).toEqual(['cache:MISS']);
    expect(o.seen('/r')).toHaveLength(0);

    await request(proxy, `${o.url}/r`);
    const ranged = await request(proxy, `${o.url}/r`, { headers: { Range: 'bytes=0-0' } });
    expect(ranged.body).toBe('r #2'); // this origin ignores Range and sends the whole body
    expect(cacheTags(ranged.flow)).toEqual([]);
    expect(o.seen('/r')).toHaveLength(2);

    const cached = await request(proxy, `${o.url}/r`, { headers: { 'Cache-Control': 'only-if-cached' } });
    expect(cached.status).toBe(200);
    expect(cached.body).toBe('r #1');
    expect(cacheTags(cached.flow)).toEqual(['cache:HIT']);
    expect(o.seen('/r')).toHaveLength(2);
  });
});

describe('live toggles', () => {
  it('is off by default; switching it on and off through the command API takes effect on the next request', async () => {
    const o = await origin();
    o.route('/t', (_req, n) => ({ headers: [['Cache-Control', 'max-age=60']], body: `t #${n}` }));
    const proxy = await startProxy();
    expect(proxy.runtime.toggles.getSnapshot().cache).toBe(false);

    for (const n of [1, 2]) {
      const got = await request(proxy, `${o.url}/t`);
      expect(got.body).toBe(`t #${n}`);
      expect(cacheTags(got.flow)).toEqual([]);
    }
    expect(o.seen('/t')).toHaveLength(2);

    expect(await proxy.runtime.execute({ type: 'set-cache', enabled: true })).toMatchObject({ ok: true });
    expect(proxy.runtime.toggles.getSnapshot().cache).toBe(true);
    expect((await request(proxy, `${o.url}/t`)).body).toBe('t #3');
    const hit = await request(proxy, `${o.url}/t`);
    expect(hit.body).toBe('t #3');
    expect(cacheTags(hit.flow)).toEqual(['cache:HIT']);
    expect(o.seen('/t')).toHaveLength(3);

    expect(await proxy.runtime.execute({ type: 'set-cache', enabled: false })).toMatchObject({ ok: true });
    expect(proxy.runtime.toggles.getSnapshot().cache).toBe(false);
    const off = await request(proxy, `${o.url}/t`);
    expect(off.body).toBe('t #4');
    expect(off.headers['age']).toBeUndefined();
    expect(cacheTags(off.flow)).toEqual([]);
    expect(o.seen('/t')).toHaveLength(4);
  });

  it('"no caching" strips validators both ways, and the cache neither serves nor stores while it is on', async () => {
    const o = await origin();
    const script = (name: string) =>
      etagScript('"n1"', (n) => ({ headers: [['Cache-Control', 'max-age=60'], ['ETag', '"n1"'], ['Last-Modified', httpDate(-DAY)]], body: `${name} #${n}` }));
    o.route('/n', script('n'));
    o.route('/m', script('m'));
    const proxy = await cachingProxy();

    // Stored before the toggle: must not be served while "no caching" is on.
    await request(proxy, `${o.url}/n`);
    expect(await proxy.runtime.execute({ type: 'set-no-cache', enabled: true })).toMatchObject({ ok: true });
    expect(proxy.runtime.toggles.getSnapshot()).toMatchObject({ cache: true, noCache: true });

    const full = await request(proxy, `${o.url}/n`, { headers: { 'If-None-Match': '"n1"', 'If-Modified-Since': httpDate() } });
    const seen = o.seen('/n').at(-1)!;
    expect(seen.headers['if-none-match']).toBeUndefined();
    expect(seen.headers['if-modified-since']).toBeUndefined();
    expect(full.status).toBe(200);
    expect(full.body).toBe('n #2');
    expect(full.headers['cache-control']).toBe('no-store');
    expect(full.headers['etag']).toBeUndefined();
    expect(full.headers['last-modified']).toBeUndefined();
    expect(cacheTags(full.flow)).toEqual([]);
    expect(full.flow.tags).toContain('no-cache');
    expect(o.seen('/n')).toHaveLength(2);

    // Not stored while on: /m reaches the origin again once the toggle is off.
    expect((await request(proxy, `${o.url}/m`)).body).toBe('m #1');
    expect(await proxy.runtime.execute({ type: 'set-no-cache', enabled: false })).toMatchObject({ ok: true });
    const after = await request(proxy, `${o.url}/m`);
    expect(after.body).toBe('m #2');
    expect(after.headers['etag']).toBe('"n1"');
    expect(cacheTags(after.flow)).toEqual([]);
    const hit = await request(proxy, `${o.url}/m`);
    expect(hit.body).toBe('m #2');
    expect(cacheTags(hit.flow)).toEqual(['cache:HIT']);
    expect(o.seen('/m')).toHaveLength(2);
  });
});

describe('byte bound and invalidation', () => {
  it('evicts the least recently used entry once newer ones exceed maxBytes', async () => {
    const maxBytes = 16 * 1024; // so one entry may be up to 1 KiB (maxBytes / 16)
    const o = await origin();
    const padding = 'x'.repeat(400);
    for (let i = 0; i < 30; i++) o.route(`/lru/${i}`, (_req, n) => ({ headers: [['Cache-Control', 'max-age=60']], body: `lru ${i} #${n} ${padding}` }));
    const proxy = await cachingProxy({ maxBytes });

    // /lru/0 is used after every new entry, so it stays the most recently used but one.
    await request(proxy, `${o.url}/lru/0`);
    for (let i = 1; i < 30; i++) {
      expect((await request(proxy, `${o.url}/lru/${i}`)).body).toBe(`lru ${i} #1 ${padding}`);
      const hot = await request(proxy, `${o.url}/lru/0`);
      expect(cacheTags(hot.flow), `/lru/0 after storing /lru/${i}`).toEqual(['cache:HIT']);
    }
    // 30 entries of ~0.8 KiB do not fit in 16 KiB: the cache stays within its budget …
    const stats = proxy.runtime.rules.cache.stats();
    expect(stats.bytes).toBeLessThanOrEqual(maxBytes);
    expect(stats.entries).toBeLessThan(30);
    expect(stats.entries).toBeGreaterThan(10);

    // … by dropping the least recently used: /lru/1 is gone, the newest is still there.
    const newest = await request(proxy, `${o.url}/lru/29`);
    expect(cacheTags(newest.flow)).toEqual(['cache:HIT']);
    expect(o.seen('/lru/29')).toHaveLength(1);
    const evicted = await request(proxy, `${o.url}/lru/1`);
    expect(evicted.body).toBe(`lru 1 #2 ${padding}`);
    expect(cacheTags(evicted.flow)).toEqual([]);
    expect(o.seen('/lru/1')).toHaveLength(2);
    expect(o.seen('/lru/0')).toHaveLength(1);
  });

  it('a successful POST invalidates the cached GET of its URL and of its Location', async () => {
    const o = await origin();
    o.route('/p', (req, n) =>
      req.method === 'POST' ? { status: 201, headers: [['Location', '/p/item']], body: `saved ${req.body}` } : { headers: [['Cache-Control', 'max-age=60']], body: `p #${n}` },
    );
    o.route('/p/item', (_req, n) => ({ headers: [['Cache-Control', 'max-age=60']], body: `item #${n}` }));
    o.route('/q', (_req, n) => ({ headers: [['Cache-Control', 'max-age=60']], body: `q #${n}` }));
    const proxy = await cachingProxy();

    for (const path of ['/p', '/p/item', '/q']) {
      await request(proxy, `${o.url}${path}`);
      expect(cacheTags((await request(proxy, `${o.url}${path}`)).flow), path).toEqual(['cache:HIT']);
    }

    const post = await request(proxy, `${o.url}/p`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'new' });
    expect(post.status).toBe(201);
    expect(post.body).toBe('saved new');
    expect(o.seen('/p', 'POST')).toHaveLength(1);

    // The target and its same-origin Location are invalidated (RFC 9111 §4.4); other URLs are not.
    const after = await request(proxy, `${o.url}/p`);
    expect(after.body).toBe('p #3');
    expect(cacheTags(after.flow)).toEqual([]);
    expect(o.seen('/p', 'GET')).toHaveLength(2);
    const item = await request(proxy, `${o.url}/p/item`);
    expect(item.body).toBe('item #2');
    expect(cacheTags(item.flow)).toEqual([]);
    const untouched = await request(proxy, `${o.url}/q`);
    expect(untouched.body).toBe('q #1');
    expect(cacheTags(untouched.flow)).toEqual(['cache:HIT']);
    expect(cacheTags((await request(proxy, `${o.url}/p`)).flow)).toEqual(['cache:HIT']);
  });
});
