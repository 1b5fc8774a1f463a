/**
 * Reverse mode, backend health: active checks take a stopped backend out and bring it back when it
 * is restarted on the same port; a failed connection is retried once on another backend for
 * idempotent requests only; with every backend down the client gets 503 with Retry-After.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { deadPort, request, startBackend, type BackendEcho, type TestBackend } from '../helpers/backends.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';
import type { ConfigFile } from '../../src/config/schema.js';

let backends: TestBackend[] = [];

afterEach(async () => {
  await stopAllProxies();
  await Promise.all(backends.map((b) => b.close()));
  backends = [];
});

const FAST_HEALTH = { path: '/healthz', intervalMs: 100, timeoutMs: 300, unhealthyAfter: 2, healthyAfter: 2 };

/** Event-log lines of a proxy, from the moment this is called. */
function logLines(proxy: TestProxy): string[] {
  const lines: string[] = [];
  proxy.runtime.bus.on('log', (e) => lines.push(`${e.level} ${e.message}`));
  return lines;
}

function healthOf(proxy: TestProxy, url: string): boolean | undefined {
  return proxy.runtime.backends().find((s) => s.url === url)?.healthy;
}

describe('reverse mode backend health', () => {
  it('a stopped backend is marked down within a few intervals and gets no requests; restarted, it returns', async () => {
    backends = await Promise.all(['a', 'b', 'c'].map((n) => startBackend(n)));
    const [a, b, c] = backends as [TestBackend, TestBackend, TestBackend];
    const config: ConfigFile = { mode: 'reverse', reverse: { backends: backends.map((x) => ({ url: x.url, weight: 1 })), health: FAST_HEALTH } };
    const proxy = await startProxy({ config });
    const log = logLines(proxy);
    await waitFor(() => b.healthChecks >= 2, { timeoutMs: 3000, message: 'health checks reaching b' });

    await b.stop();
    await waitFor(() => healthOf(proxy, b.url) === false, { timeoutMs: 3000, message: `${b.url} marked down` });
    const status = proxy.runtime.backends().find((s) => s.url === b.url)!;
    expect(status.reason).toMatch(/2 failed health checks: connection refused/);
    expect(status.since).toBeGreaterThan(0);
    for (let i = 0; i < 12; i++) {
      const r = await request(proxy.port, `/down/${i}`);
      expect(r.status).toBe(200);
      expect((JSON.parse(r.body) as BackendEcho).backend).not.toBe('b');
    }
    expect(a.hits.length + c.hits.length).toBe(12);
    expect(b.hits).toHaveLength(0);
    expect(log.filter((l) => l.startsWith(`warn backend ${b.url} (group default) is down`))).toHaveLength(1);

    await b.restart();
    await waitFor(() => healthOf(proxy, b.url) === true, { timeoutMs: 3000, message: `${b.url} healthy again` });
    const names = new Set<string>();
    for (let i = 0; i < 6; i++) names.add((JSON.parse((await request(proxy.port, `/up/${i}`)).body) as BackendEcho).backend);
    expect(names).toEqual(new Set(['a', 'b', 'c']));
    expect(b.hits.length).toBeGreaterThan(0);
    expect(log.filter((l) => l.startsWith(`info backend ${b.url} (group default) is healthy again`))).toHaveLength(1);
    expect(log.filter((l) => l.includes(`${b.url} (group default) is down`))).toHaveLength(1);

    // Stopping the proxy stops its health checks.
    await proxy.stop();
    const checks = backends.map((x) => x.healthChecks);
    await new Promise((r) => setTimeout(r, 5 * FAST_HEALTH.intervalMs));
    expect(backends.map((x) => x.healthChecks)).toEqual(checks);
  });

  it('a backend answering its health check with 503 is taken out; a good answer brings it back', async () => {
    backends = await Promise.all(['a', 'b'].map((n) => startBackend(n)));
    const [a, b] = backends as [TestBackend, TestBackend];
    const proxy = await startProxy({ flags: { mode: `reverse:${a.url},${b.url}` }, config: { reverse: { health: FAST_HEALTH } } });
    b.healthStatus = 503;
    await waitFor(() => healthOf(proxy, b.url) === false, { timeoutMs: 3000, message: `${b.url} marked down` });
    expect(proxy.runtime.backends().find((s) => s.url === b.url)?.reason).toMatch(/HTTP 503/);
    for (let i = 0; i < 4; i++) await request(proxy.port, '/x');
    expect(b.hits).toHaveLength(0);
    b.healthStatus = 200;
    await waitFor(() => healthOf(proxy, b.url) === true, { timeoutMs: 3000, message: `${b.url} healthy again` });
  });

  it('retries an idempotent request whose connection failed on another backend; a POST gets the 502', async () => {
    backends = await Promise.all(['a', 'c'].map((n) => startBackend(n)));
    const [a, c] = backends as [TestBackend, TestBackend];
    const dead = `http://127.0.0.1:${await deadPort()}`;
    // Passive marking off: the dead backend stays in rotation, so every third request meets it.
    const proxy = await startProxy({ flags: { mode: `reverse:${a.url},${dead},${c.url}` }, config: { reverse: { passive: { failures: 0 } } } });
    const log = logLines(proxy);
    for (let i = 0; i < 12; i++) {
      const r = await request(proxy.port, `/get/${i}`);
      expect(r.status).toBe(200);
    }
    expect(a.hits.length + c.hits.length).toBe(12);
    const flows = await proxy.waitForFlows(12);
    const retried = flows.filter((f) => f.tags.includes(`retry:${dead}`));
    expect(retried).toHaveLength(4);
    for (const f of retried) {
      expect(f.response?.status).toBe(200);
      expect([a.port, c.port]).toContain(f.server.port);
      expect(f.request.port).toBe(f.server.port);
    }
    expect(log.filter((l) => l.includes(`backend ${dead} failed`) && l.includes('retried on'))).toHaveLength(4);

    // A PUT with a body is idempotent: retried with the same body.
    for (let i = 0; i < 3; i++) {
      const r = await request(proxy.port, '/put', { method: 'PUT', body: `payload-${i}`, headers: { 'content-type': 'text/plain' } });
      expect(r.status).toBe(200);
      expect((JSON.parse(r.body) as BackendEcho).body).toBe(`payload-${i}`);
    }
    const puts = (await proxy.waitForFlows(15)).filter((f) => f.request.method === 'PUT');
    const retriedPut = puts.find((f) => f.tags.includes(`retry:${dead}`));
    expect(retriedPut?.request.body.state).toBe('complete');
    expect(retriedPut?.request.body.bytes?.toString()).toMatch(/^payload-\d$/);

    // POST is not idempotent: three in a row meet each backend once, and the dead one's is a 502.
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await request(proxy.port, '/post', { method: 'POST', body: 'x' })).status);
    expect(statuses.sort()).toEqual([200, 200, 502]);
    const failedPost = await proxy.waitForFlow((f) => f.request.method === 'POST' && f.response?.status === 502);
    expect(failedPost.error?.code).toBe('UPSTREAM_REFUSED');
    expect(failedPost.tags.some((t) => t.startsWith('retry:'))).toBe(false);
    expect(failedPost.server.port).toBe(Number(new URL(dead).port));
    const dStatus = proxy.runtime.backends().find((s) => s.url === dead)!;
    // 4 GETs, 1 PUT and 1 POST met it; passive health counted each failed connection.
    expect(dStatus.failures).toBe(6);
    expect(dStatus.healthy).toBe(true);
    expect(proxy.runtime.backends().every((s) => s.inFlight === 0)).toBe(true);
  });

  it('with every backend down: 503 with Retry-After and a page naming the group and the backends’ states', async () => {
    backends = await Promise.all(['a', 'b'].map((n) => startBackend(n)));
    const [a, b] = backends as [TestBackend, TestBackend];
    const proxy = await startProxy({ config: { mode: 'reverse', reverse: { groups: { shop: { backends: [{ url: a.url, weight: 1 }, { url: b.url, weight: 1 }] } }, defaultGroup: 'shop', health: FAST_HEALTH } } });
    expect((await request(proxy.port, '/')).status).toBe(200);
    await a.stop();
    await b.stop();
    await waitFor(() => proxy.runtime.backends().every((s) => !s.healthy), { timeoutMs: 3000, message: 'both backends down' });
    const r = await request(proxy.port, '/cart', { host: 'shop.local' });
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('1');
    expect(r.headers['x-proxyctl-error']).toBe('BACKENDS_DOWN');
    expect(r.body).toMatch(/group <b>shop<\/b>/);
    expect(r.body).toContain(`<code>${a.url}</code>: down (`);
    expect(r.body).toContain(`<code>${b.url}</code>: down (`);
    expect(r.body).toMatch(/connection refused/);
    const flow = await proxy.waitForFlow((f) => f.response?.status === 503);
    expect(flow.tags).toContain('backends-down');
    expect([flow.request.host, flow.request.path]).toEqual(['shop.local', '/cart']);
    // Back up: served again.
    await a.restart();
    await waitFor(() => healthOf(proxy, a.url) === true, { timeoutMs: 3000, message: `${a.url} healthy again` });
    expect((await request(proxy.port, '/cart')).status).toBe(200);
  });

  it('without active checks, traffic marks a dead backend down and it is tried again after the cool-down', async () => {
    backends = [await startBackend('a')];
    const [a] = backends as [TestBackend];
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const proxy = await startProxy({ flags: { mode: `reverse:${dead},${a.url}` }, config: { reverse: { passive: { failures: 2, cooldownMs: 400 } } } });
    const log = logLines(proxy);
    for (let i = 0; i < 6; i++) expect((await request(proxy.port, '/x')).status).toBe(200);
    expect(healthOf(proxy, dead)).toBe(false);
    expect(log.filter((l) => l.includes(`backend ${dead} (group default) is down: 2 failed requests in a row`))).toHaveLength(1);
    const retries = (await proxy.waitForFlows(6)).filter((f) => f.tags.includes(`retry:${dead}`)).length;
    expect(retries).toBe(2);
    await waitFor(() => healthOf(proxy, dead) === true, { timeoutMs: 3000, message: 'dead backend given another chance after the cool-down' });
  });
});
