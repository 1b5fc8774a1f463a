/**
 * ProxyMetrics over a real bus, fed flow events made with the flow factory: what each family
 * counts, the gauges read at scrape time (backends included), and that two instances never share
 * counts (a private registry each).
 */
import { describe, expect, it } from 'vitest';
import { ProxyMetrics, type MetricsSources } from '../../../src/ops/metrics.js';
import { EventBus } from '../../../src/proxy/bus.js';
import type { Flow } from '../../../src/proxy/core/flow.js';
import type { BackendStatus } from '../../../src/proxy/reverse/status.js';
import { body, makeFlow } from '../../helpers/make-flow.js';
import { parseExposition, sum, value, type Exposition } from '../../helpers/prom-text.js';

function backend(over: Partial<BackendStatus>): BackendStatus {
  return { group: 'default', url: 'http://127.0.0.1:3001', weight: 1, healthy: true, inFlight: 0, requests: 0, failures: 0, since: null, reason: null, ...over };
}

function setup(over: Partial<MetricsSources> = {}) {
  const bus = new EventBus((err) => {
    throw err;
  });
  const state = { cacheActive: false, backends: [] as BackendStatus[] };
  const sources: MetricsSources = {
    mode: 'reverse',
    openConnections: () => 7,
    flowsInFlight: () => 3,
    pausedFlows: () => 2,
    backends: () => state.backends,
    cacheActive: () => state.cacheActive,
    cacheStats: () => ({ entries: 4, bytes: 1000, maxBytes: 2000 }),
    ...over,
  };
  let clock = 1_000_000;
  const metrics = new ProxyMetrics(bus, sources, () => clock);
  const end = (flow: Flow) => bus.emit({ type: 'flow-end', flow });
  const scrape = async (): Promise<Exposition> => parseExposition(await metrics.render());
  return { bus, state, metrics, end, scrape, tick: (ms: number) => (clock += ms) };
}

describe('ProxyMetrics', () => {
  it('counts finished flows by method, status class and mode', async () => {
    const { end, scrape } = setup();
    end(makeFlow());
    end(makeFlow());
    end(makeFlow({ request: { method: 'POST' }, response: { status: 502 } }));
    end(makeFlow({ request: { method: 'BREW' }, response: { status: 418 } }));
    end(makeFlow({ response: null, error: { code: 'CLIENT_ABORTED', message: 'gone' } }));
    const m = await scrape();
    expect(value(m, 'proxyctl_requests_total', { method: 'GET', status_class: '2xx', mode: 'reverse' })).toBe(2);
    expect(value(m, 'proxyctl_requests_total', { method: 'POST', status_class: '5xx', mode: 'reverse' })).toBe(1);
    expect(value(m, 'proxyctl_requests_total', { method: 'OTHER', status_class: '4xx', mode: 'reverse' })).toBe(1);
    expect(value(m, 'proxyctl_requests_total', { method: 'GET', status_class: 'none', mode: 'reverse' })).toBe(1);
    expect(sum(m, 'proxyctl_requests_total')).toBe(5);
    // The mode is on every series, histograms and gauges included.
    expect(m.samples.length).toBeGreaterThan(30);
    expect(m.samples.filter((s) => s.labels['mode'] !== 'reverse')).toEqual([]);
  });

  it('observes total time for HTTP exchanges and the overhead only for forwarded ones, in seconds', async () => {
    const { end, scrape } = setup();
    end(makeFlow({ timings: { requestHeaders: 1, upstreamSent: 3, responseEnd: 40 } }));
    end(makeFlow({ timings: { upstreamSent: null, responseEnd: 2 }, tags: ['mocked'] }));
    end(makeFlow({ kind: 'tunnel', request: { method: 'CONNECT' }, timings: { upstreamSent: null, responseEnd: 60_000 } }));
    const m = await scrape();
    expect(value(m, 'proxyctl_request_duration_seconds_count', { mode: 'reverse' })).toBe(2);
    expect(value(m, 'proxyctl_request_duration_seconds_sum', { mode: 'reverse' })).toBeCloseTo(0.042, 9);
    expect(value(m, 'proxyctl_request_duration_seconds_bucket', { mode: 'reverse', le: '0.0025' })).toBe(1);
    expect(value(m, 'proxyctl_request_duration_seconds_bucket', { mode: 'reverse', le: '0.05' })).toBe(2);
    expect(value(m, 'proxyctl_proxy_overhead_seconds_count', { mode: 'reverse' })).toBe(1);
    expect(value(m, 'proxyctl_proxy_overhead_seconds_sum', { mode: 'reverse' })).toBeCloseTo(0.002, 9);
    expect(value(m, 'proxyctl_proxy_overhead_seconds_bucket', { mode: 'reverse', le: '0.001' })).toBe(0);
    expect(value(m, 'proxyctl_proxy_overhead_seconds_bucket', { mode: 'reverse', le: '0.0025' })).toBe(1);
  });

  it('counts body bytes each way by kind, WebSocket messages as they pass', async () => {
    const { bus, end, scrape } = setup();
    end(makeFlow({ request: { method: 'POST', body: body('12345') }, response: { body: body('abc') } }));
    end(makeFlow({ kind: 'tunnel', request: { method: 'CONNECT', body: body(Buffer.alloc(100)) }, response: { body: body(Buffer.alloc(250)) } }));
    const ws = (direction: 'client' | 'server', size: number) =>
      bus.emit({ type: 'ws-message', flowId: 'f', message: { direction, type: 'text', size, payload: Buffer.alloc(0), truncated: true, time: 0 } });
    ws('client', 10);
    ws('server', 20);
    ws('server', 5);
    const m = await scrape();
    expect(value(m, 'proxyctl_received_bytes_total', { kind: 'http' })).toBe(5);
    expect(value(m, 'proxyctl_sent_bytes_total', { kind: 'http' })).toBe(3);
    expect(value(m, 'proxyctl_received_bytes_total', { kind: 'tunnel' })).toBe(100);
    expect(value(m, 'proxyctl_sent_bytes_total', { kind: 'tunnel' })).toBe(250);
    expect(value(m, 'proxyctl_received_bytes_total', { kind: 'websocket' })).toBe(10);
    expect(value(m, 'proxyctl_sent_bytes_total', { kind: 'websocket' })).toBe(25);
  });

  it('counts refusals by their tags and cache results, a plain miss only while the cache is on', async () => {
    const { state, end, scrape } = setup();
    end(makeFlow({ tags: ['blocked'], timings: { upstreamSent: null }, response: { status: 403 } }));
    end(makeFlow({ tags: ['auth-required'], timings: { upstreamSent: null }, response: { status: 407 } }));
    end(makeFlow({ kind: 'http', request: { method: 'CONNECT' }, tags: ['auth-required'], timings: { upstreamSent: null }, response: { status: 407 } }));
    end(makeFlow({ tags: ['rate-limited'], timings: { upstreamSent: null }, response: { status: 429 } }));
    end(makeFlow()); // cache off: not a lookup
    state.cacheActive = true;
    end(makeFlow());
    end(makeFlow({ tags: ['cache:HIT'], timings: { upstreamSent: null } }));
    end(makeFlow({ tags: ['cache:REVALIDATED'] }));
    const m = await scrape();
    expect(value(m, 'proxyctl_blocked_total')).toBe(1);
    expect(value(m, 'proxyctl_auth_failures_total')).toBe(2);
    expect(value(m, 'proxyctl_rate_limited_total')).toBe(1);
    expect(value(m, 'proxyctl_cache_lookups_total', { result: 'miss' })).toBe(1);
    expect(value(m, 'proxyctl_cache_lookups_total', { result: 'hit' })).toBe(1);
    expect(value(m, 'proxyctl_cache_lookups_total', { result: 'revalidated' })).toBe(1);
    expect(value(m, 'proxyctl_cache_lookups_total', { result: 'stale' })).toBe(0);
  });

  it('reads gauges when scraped, backends by group and url, and drops a backend that went away', async () => {
    const { state, scrape, metrics, tick } = setup();
    state.backends = [
      backend({ url: 'http://127.0.0.1:3001', requests: 10, failures: 1, inFlight: 2 }),
      backend({ group: 'api', url: 'http://127.0.0.1:3002', healthy: false, requests: 4, failures: 4, reason: 'refused' }),
    ];
    let m = await scrape();
    expect(value(m, 'proxyctl_open_connections')).toBe(7);
    expect(value(m, 'proxyctl_flows_in_flight')).toBe(3);
    expect(value(m, 'proxyctl_paused_flows')).toBe(2);
    expect(value(m, 'proxyctl_cache_entries')).toBe(4);
    expect(value(m, 'proxyctl_cache_size_bytes')).toBe(1000);
    expect(value(m, 'proxyctl_backend_healthy', { group: 'default', url: 'http://127.0.0.1:3001' })).toBe(1);
    expect(value(m, 'proxyctl_backend_healthy', { group: 'api', url: 'http://127.0.0.1:3002' })).toBe(0);
    expect(value(m, 'proxyctl_backend_in_flight', { group: 'default', url: 'http://127.0.0.1:3001' })).toBe(2);
    expect(value(m, 'proxyctl_backend_requests_total', { group: 'default', url: 'http://127.0.0.1:3001' })).toBe(10);
    expect(value(m, 'proxyctl_backend_failures_total', { group: 'api', url: 'http://127.0.0.1:3002' })).toBe(4);
    expect(m.types.get('proxyctl_backend_requests_total')).toBe('counter');

    state.backends = [backend({ url: 'http://127.0.0.1:3001', requests: 12 })];
    m = await scrape();
    expect(value(m, 'proxyctl_backend_requests_total', { group: 'default', url: 'http://127.0.0.1:3001' })).toBe(12);
    expect(sum(m, 'proxyctl_backend_healthy', { group: 'api' })).toBe(0);
    expect(m.samples.filter((s) => s.labels['group'] === 'api')).toEqual([]);

    tick(2500);
    expect(metrics.health()).toEqual({ uptimeSeconds: 2.5, flows: { inFlight: 3, finished: 0, paused: 2 }, openConnections: 7 });
  });

  it('keeps counts per instance (a private registry) and stops counting once detached', async () => {
    const a = setup();
    const b = setup();
    a.end(makeFlow());
    expect(sum(await a.scrape(), 'proxyctl_requests_total')).toBe(1);
    expect(sum(await b.scrape(), 'proxyctl_requests_total')).toBe(0);
    a.metrics.detach();
    a.end(makeFlow());
    expect(sum(await a.scrape(), 'proxyctl_requests_total')).toBe(1);
    expect(a.metrics.health().flows.finished).toBe(1);
  });
});
