/**
 * `--admin-port` (issue 8): real traffic through a real proxy (plain HTTP, HTTPS intercepted, a
 * blocked request, a 407, a 429, a cache miss then hit, a paused flow), then `/metrics` scraped
 * over HTTP and parsed as a Prometheus scraper would, asserting the counts by label. `/healthz`,
 * and the answers to other paths and methods.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { startCacheOrigin, type CacheOrigin } from '../helpers/cache-origin.js';
import { curlRequest } from '../helpers/curl.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { parseExposition, sum, value, type Exposition } from '../helpers/prom-text.js';
import { isFinished, startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { fixtureCaPaths } from '../helpers/test-ca.js';
import { waitFor } from '../helpers/wait.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request to the admin endpoint on a fresh connection, bounded. */
function admin(url: string, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`admin ${method} ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function scrape(proxy: TestProxy): Promise<Exposition> {
  const res = await admin(proxy.runtime.admin!.url, '/metrics');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(res.body);
}

const AUTH = 'alice:secret';

describe('admin endpoint', () => {
  let cacheOrigin: CacheOrigin | undefined;
  let tlsOrigin: Origin | undefined;
  const sockets = new Set<net.Socket>();

  afterEach(async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await stopAllProxies();
    await cacheOrigin?.close();
    await tlsOrigin?.close();
    cacheOrigin = tlsOrigin = undefined;
  });

  it('counts real traffic by method, status class and mode, with refusals, cache results, bytes and latencies', async () => {
    cacheOrigin = await startCacheOrigin();
    cacheOrigin.route('/plain', (req) => ({ body: req.method === 'POST' ? `got ${req.body.length}` : 'plain' }));
    cacheOrigin.route('/cached', () => ({ headers: [['Cache-Control', 'max-age=600']], body: 'stored' }));
    cacheOrigin.route('/limited', () => ({ body: 'limited' }));
    cacheOrigin.route('/blocked', () => ({ body: 'never' }));
    tlsOrigin = await startOrigin({ tls: 'valid' });
    const config = configSchema.parse({
      cache: { enabled: true },
      proxyAuth: { users: [{ user: 'alice', password: 'secret' }] },
      rules: [
        { type: 'block', filter: '~u /blocked' },
        // One token and (practically) no refill: the second request is always the 429.
        { type: 'rate-limit', filter: '~u /limited', perSecond: 0.001, burst: 1 },
      ],
    });
    const proxy = await startProxy({ flags: { adminPort: '0' }, config });
    const o = cacheOrigin.url;
    const via = { proxy: proxy.url, extra: ['--proxy-user', AUTH] };

    const statuses: number[] = [];
    const get = async (url: string, opts: Parameters<typeof curlRequest>[1] = via) => {
      const res = await curlRequest(url, opts);
      statuses.push(res.status);
      return res;
    };
    await get(`${o}/plain`);
    await get(`${o}/cached`);
    expect((await get(`${o}/cached`)).body.toString()).toBe('stored');
    await get(`${o}/plain`, { ...via, method: 'POST', data: 'hello world' });
    expect((await get(`${tlsOrigin.url}/hello`, { ...via, cacert: fixtureCaPaths.cert })).body.toString()).toBe('hello');
    await get(`${o}/blocked`);
    await get(`${o}/limited`);
    await get(`${o}/limited`);
    await get(`${o}/plain`, { proxy: proxy.url }); // no credentials: 407
    // HTTPS without credentials: the CONNECT itself gets the 407 (curl then gives up).
    const refused = await curlRequest(`${tlsOrigin.url}/hello`, { proxy: proxy.url, cacert: fixtureCaPaths.cert });
    expect(refused.exitCode).not.toBe(0);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 403, 200, 429, 407]);
    expect(cacheOrigin.seen('/cached')).toHaveLength(1);
    const flows = await proxy.waitForFlows(10);
    expect(flows.filter(isFinished)).toHaveLength(10);

    const m = await scrape(proxy);
    const regular = { mode: 'regular' };
    expect(value(m, 'proxyctl_requests_total', { method: 'GET', status_class: '2xx', ...regular })).toBe(5);
    expect(value(m, 'proxyctl_requests_total', { method: 'POST', status_class: '2xx', ...regular })).toBe(1);
    expect(value(m, 'proxyctl_requests_total', { method: 'GET', status_class: '4xx', ...regular })).toBe(3);
    expect(value(m, 'proxyctl_requests_total', { method: 'CONNECT', status_class: '4xx', ...regular })).toBe(1);
    expect(sum(m, 'proxyctl_requests_total')).toBe(10);
    expect(m.types.get('proxyctl_requests_total')).toBe('counter');

    expect(value(m, 'proxyctl_blocked_total')).toBe(1);
    expect(value(m, 'proxyctl_auth_failures_total')).toBe(2);
    expect(value(m, 'proxyctl_rate_limited_total')).toBe(1);
    expect(value(m, 'proxyctl_cache_lookups_total', { result: 'hit' })).toBe(1);
    // Sent to the origin with the cache on: /plain, the first /cached, https /hello, the first /limited.
    expect(value(m, 'proxyctl_cache_lookups_total', { result: 'miss' })).toBe(4);
    expect(value(m, 'proxyctl_cache_lookups_total', { result: 'stale' })).toBe(0);
    // Everything storable was stored (max-age or not: a private cache may keep it to revalidate).
    expect(value(m, 'proxyctl_cache_entries')).toBe(proxy.runtime.rules.cache.stats().entries);
    expect(value(m, 'proxyctl_cache_entries')).toBeGreaterThanOrEqual(1);

    expect(value(m, 'proxyctl_received_bytes_total', { kind: 'http' })).toBe('hello world'.length);
    const bodyBytes = flows.reduce((n, f) => n + (f.response?.body.size ?? 0), 0);
    expect(value(m, 'proxyctl_sent_bytes_total', { kind: 'http' })).toBe(bodyBytes);
    expect(bodyBytes).toBeGreaterThan('plainstoredstoredgot 11hellolimited'.length);

    // Latencies: every exchange that got a response has a total time; only the five that went
    // upstream have an overhead (local answers add nothing "before the origin").
    expect(m.types.get('proxyctl_request_duration_seconds')).toBe('histogram');
    const answered = flows.filter((f) => f.kind === 'http' && f.timings.responseEnd !== null).length;
    expect(answered).toBeGreaterThanOrEqual(9);
    expect(value(m, 'proxyctl_request_duration_seconds_count', regular)).toBe(answered);
    expect(value(m, 'proxyctl_request_duration_seconds_bucket', { ...regular, le: '+Inf' })).toBe(answered);
    expect(value(m, 'proxyctl_request_duration_seconds_sum', regular)).toBeGreaterThan(0);
    expect(value(m, 'proxyctl_proxy_overhead_seconds_count', regular)).toBe(5);
    expect(value(m, 'proxyctl_proxy_overhead_seconds_bucket', { ...regular, le: '+Inf' })).toBe(5);
    // Bucket counts are cumulative.
    const buckets = m.samples.filter((s) => s.name === 'proxyctl_proxy_overhead_seconds_bucket').map((s) => s.value);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));

    expect(value(m, 'proxyctl_flows_in_flight')).toBe(0);
    expect(value(m, 'proxyctl_paused_flows')).toBe(0);
    // Reverse mode only: no backend series in regular mode, but the families are declared.
    expect(m.types.get('proxyctl_backend_healthy')).toBe('gauge');
    expect(sum(m, 'proxyctl_backend_healthy')).toBe(0);
    // Every family is ours.
    for (const name of m.types.keys()) expect(name).toMatch(/^proxyctl_/);
  });

  it('reports open connections and paused flows as they are at scrape time', async () => {
    cacheOrigin = await startCacheOrigin();
    cacheOrigin.route('/paused', () => ({ body: 'resumed' }));
    const config = configSchema.parse({ rules: [{ type: 'breakpoint', filter: '~u /paused', on: ['request'] }] });
    const proxy = await startProxy({ flags: { adminPort: '0' }, config });

    // Two idle client connections (nothing sent yet): each is an open connection, no flow.
    for (let i = 0; i < 2; i++) {
      const s = net.connect(proxy.port, '127.0.0.1');
      s.on('error', () => {
        /* destroyed in afterEach */
      });
      sockets.add(s);
      await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    }
    await waitFor(async () => value(await scrape(proxy), 'proxyctl_open_connections') === 2, { message: '2 open connections', timeoutMs: 5000 });

    const pending = curlRequest(`${cacheOrigin.url}/paused`, { proxy: proxy.url });
    const paused = await waitFor(() => proxy.flows().find((f) => f.phase === 'request-paused'), { message: 'the flow to pause' });
    const m = await scrape(proxy);
    expect(value(m, 'proxyctl_paused_flows')).toBe(1);
    expect(value(m, 'proxyctl_flows_in_flight')).toBe(1);
    expect(value(m, 'proxyctl_open_connections')).toBe(3);
    const health = JSON.parse((await admin(proxy.runtime.admin!.url, '/healthz')).body) as { flows: { paused: number; inFlight: number } };
    expect(health.flows).toMatchObject({ paused: 1, inFlight: 1 });

    expect(await proxy.runtime.execute({ type: 'resume', flowId: paused.id })).toEqual({ ok: true });
    const res = await pending;
    expect(res.body.toString()).toBe('resumed');
    await proxy.waitForFlows(1);
    const after = await scrape(proxy);
    expect(value(after, 'proxyctl_paused_flows')).toBe(0);
    expect(value(after, 'proxyctl_flows_in_flight')).toBe(0);
    expect(value(after, 'proxyctl_requests_total', { method: 'GET', status_class: '2xx', mode: 'regular' })).toBe(1);
  });

  it('reverse mode: per-backend series labelled group and url, and mode="reverse" on the requests', async () => {
    const a = await startOrigin();
    const b = await startOrigin();
    try {
      const proxy = await startProxy({ flags: { adminPort: '0', mode: `reverse:${a.url},${b.url}` } });
      for (let i = 0; i < 4; i++) expect((await curlRequest(`${proxy.url}/hello`)).body.toString()).toBe('hello');
      await proxy.waitForFlows(4);
      const m = await scrape(proxy);
      expect(value(m, 'proxyctl_requests_total', { method: 'GET', status_class: '2xx', mode: 'reverse' })).toBe(4);
      const backends = proxy.runtime.backends();
      expect(backends).toHaveLength(2);
      for (const backend of backends) {
        const labels = { group: backend.group, url: backend.url, mode: 'reverse' };
        expect(value(m, 'proxyctl_backend_healthy', labels)).toBe(backend.healthy ? 1 : 0);
        expect(value(m, 'proxyctl_backend_requests_total', labels)).toBe(backend.requests);
        expect(value(m, 'proxyctl_backend_failures_total', labels)).toBe(0);
        expect(value(m, 'proxyctl_backend_in_flight', labels)).toBe(0);
      }
      expect(sum(m, 'proxyctl_backend_healthy')).toBe(2);
      // Each origin answered the requests its series counts (health probes, if any, are not requests).
      expect(sum(m, 'proxyctl_backend_requests_total')).toBe(4);
      const aUrl = backends.find((x) => new URL(x.url).port === String(a.port))!.url;
      expect(value(m, 'proxyctl_backend_requests_total', { url: aUrl })).toBe(a.requests.filter((r) => r.url === '/hello').length);
    } finally {
      await stopAllProxies();
      await a.close();
      await b.close();
    }
  });

  it('/healthz answers 200 with a JSON report; other paths 404, other methods 405; HEAD has no body', async () => {
    const proxy = await startProxy({ flags: { adminPort: '0' } });
    const url = proxy.runtime.admin!.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(proxy.runtime.admin!.port).not.toBe(proxy.port);

    const health = await admin(url, '/healthz');
    expect(health.status).toBe(200);
    expect(health.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(health.body) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', flows: { inFlight: 0, finished: 0, paused: 0 }, openConnections: 0 });
    expect(typeof body['uptimeSeconds']).toBe('number');

    const head = await admin(url, '/metrics', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');

    const missing = await admin(url, '/nope');
    expect(missing.status).toBe(404);
    const post = await admin(url, '/metrics', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
    // The query string does not change the path.
    expect((await admin(url, '/healthz?verbose=1')).status).toBe(200);
  });

  it('/healthz turns 503 once shutdown begins, and the admin port closes when the runtime has stopped', async () => {
    tlsOrigin = await startOrigin();
    const proxy = await startProxy({ flags: { adminPort: '0' } });
    const url = proxy.runtime.admin!.url;
    // A slow request in flight keeps the runtime draining long enough to look at /healthz.
    const pending = curlRequest(`${tlsOrigin.url}/slow/800`, { proxy: proxy.url });
    await waitFor(() => tlsOrigin!.requests.length === 1, { message: 'the slow request to reach the origin' });
    const stopping = proxy.runtime.stop(5000);
    const during = await admin(url, '/healthz');
    expect(during.status).toBe(503);
    expect(JSON.parse(during.body)).toMatchObject({ status: 'shutting-down', flows: { inFlight: 1 } });
    await stopping;
    expect((await pending).status).toBe(200);
    await expect(admin(url, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });

  it("the proxy's access lists apply to the admin port too", async () => {
    const proxy = await startProxy({ flags: { adminPort: '0' }, config: configSchema.parse({ access: { allow: ['10.0.0.0/8'] } }) });
    await expect(admin(proxy.runtime.admin!.url, '/metrics')).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it('a port already in use refuses the start, leaving nothing listening', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startProxy({ flags: { adminPort: String(port) } })).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${port} for --admin-port: EADDRINUSE`));
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
