/**
 * Reverse mode, what the backend sees and where requests go: forwarding headers (plain, anonymized,
 * over TLS ended at the listener, over HTTP/2), Host kept or rewritten, routes by Host and path
 * prefix with a default, and the proxy's own features (rules, breakpoints, flows) on reverse flows.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { deadPort, request, startBackend, type BackendEcho, type TestBackend } from '../helpers/backends.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { curlRequest } from '../helpers/curl.js';
import { startProxy, stopAllProxies } from '../helpers/proxy.js';
import { rawRequest } from '../helpers/raw-client.js';
import { fixtureCaPaths } from '../helpers/test-ca.js';
import { once, waitFor } from '../helpers/wait.js';

let backends: TestBackend[] = [];
const servers: http.Server[] = [];
const sockets: WebSocket[] = [];
const origins: Origin[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await stopAllProxies();
  await Promise.all(origins.splice(0).map((o) => o.close()));
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
  await Promise.all(backends.map((b) => b.close()));
  backends = [];
});

function echo(body: string | Buffer): BackendEcho {
  return JSON.parse(body.toString()) as BackendEcho;
}

describe('reverse mode: what the backend is told', () => {
  it('sets X-Forwarded-For (appended), -Proto, -Host and X-Real-IP, and keeps the client’s Host by default', async () => {
    backends = [await startBackend('a')];
    const [a] = backends as [TestBackend];
    const proxy = await startProxy({ flags: { mode: `reverse:${a.url}` } });
    const r = await request(proxy.port, '/who', { host: 'app.local:8080', headers: { 'x-forwarded-for': '198.51.100.7', 'x-real-ip': '6.6.6.6' }, localAddress: '127.0.0.5' });
    const h = echo(r.body).headers;
    expect(h.host).toBe('app.local:8080');
    expect(h['x-forwarded-for']).toBe('198.51.100.7, 127.0.0.5');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe('app.local:8080');
    expect(h['x-real-ip']).toBe('127.0.0.5');
    // The flow shows what was sent to the backend (the client's X-Real-IP replaced in place).
    const flow = await proxy.waitForFlow((f) => f.request.path === '/who');
    expect(flow.request.headers).toContainEqual(['x-real-ip', '127.0.0.5']);
    expect(flow.request.headers).toContainEqual(['X-Forwarded-Proto', 'http']);
    expect(flow.client.address).toBe('127.0.0.5');
  });

  it('rewrites Host to the backend and anonymizes addresses when configured; a backend path prefix is prepended', async () => {
    backends = [await startBackend('a')];
    const [a] = backends as [TestBackend];
    const proxy = await startProxy({ config: { mode: 'reverse', reverse: { backends: [{ url: `${a.url}/v1`, weight: 1 }], hostHeader: 'rewrite', forwarded: { anonymize: true } } } });
    const r = await request(proxy.port, '/users?id=3', { host: 'app.local', headers: { 'x-forwarded-for': '203.0.113.77' } });
    const e = echo(r.body);
    expect(e.path).toBe('/v1/users?id=3');
    expect(e.headers.host).toBe(`127.0.0.1:${a.port}`);
    expect(e.headers['x-forwarded-host']).toBe('app.local');
    expect(e.headers['x-forwarded-for']).toBe('203.0.113.0, 127.0.0.0');
    expect(e.headers['x-real-ip']).toBe('127.0.0.0');
  });

  it.each(['1.1', '2'] as const)('over TLS ended at the listener (HTTP/%s): X-Forwarded-Proto https, the flow on the backend', async (http) => {
    backends = [await startBackend('a')];
    const [a] = backends as [TestBackend];
    const proxy = await startProxy({ flags: { mode: `reverse:${a.url}` } });
    const r = await curlRequest(`https://app.local:${proxy.port}/secure`, { http, cacert: fixtureCaPaths.cert, extra: ['--resolve', `app.local:${proxy.port}:127.0.0.1`] });
    expect(r.exitCode).toBe(0);
    expect(r.status).toBe(200);
    expect(r.httpVersion).toBe(http);
    const h = echo(r.body).headers;
    expect(h['x-forwarded-proto']).toBe('https');
    expect(h['x-forwarded-host']).toBe(`app.local:${proxy.port}`);
    expect(h.host).toBe(`app.local:${proxy.port}`);
    const flow = await proxy.waitForFlow((f) => f.request.path === '/secure');
    expect([flow.request.scheme, flow.server.port, flow.client.tlsVersion !== null]).toEqual(['http', a.port, true]);
    await waitFor(() => proxy.runtime.backends()[0]!.inFlight === 0, { timeoutMs: 3000, message: 'in-flight count back to 0' });
  });
});

describe('reverse mode: HTTPS backends', () => {
  it('speaks HTTP/2 to an https backend (verified against its CA), and retries a GET whose https backend is down', async () => {
    const origin = await startOrigin({ http2: true });
    origins.push(origin);
    const dead = `https://localhost:${await deadPort()}`;
    const proxy = await startProxy({ flags: { mode: `reverse:${dead},${origin.url}` }, config: { reverse: { passive: { failures: 0 } } } });
    for (let i = 0; i < 2; i++) {
      const r = await request(proxy.port, '/hello', { host: 'app.local' });
      expect([r.status, r.body]).toEqual([200, 'hello']);
    }
    const flows = await proxy.waitForFlows(2);
    expect(flows.map((f) => [f.server.port, f.server.alpn, f.response?.httpVersion])).toEqual([
      [origin.port, 'h2', '2'],
      [origin.port, 'h2', '2'],
    ]);
    expect(flows.filter((f) => f.tags.includes(`retry:${dead}`))).toHaveLength(1);
    expect(origin.requests.map((r) => r.rawHeaders[r.rawHeaders.indexOf(':authority') + 1])).toEqual(['app.local', 'app.local']);
  });
});

describe('reverse mode: routes', () => {
  it('routes by Host (exact and wildcard) and path prefix to named groups, with a default', async () => {
    backends = await Promise.all(['api', 'web', 'static', 'shop', 'fallback'].map((n) => startBackend(n)));
    const [api, web, stat, shop, fallback] = backends as [TestBackend, TestBackend, TestBackend, TestBackend, TestBackend];
    const proxy = await startProxy({
      config: {
        mode: 'reverse',
        reverse: {
          backends: [{ url: fallback.url, weight: 1 }],
          groups: { api: { backends: [{ url: api.url, weight: 1 }] }, web: { backends: [{ url: web.url, weight: 1 }] } },
          routes: [
            { host: 'api.local', group: 'api' },
            { host: 'www.local', group: 'web' },
            { host: 'www.local', pathPrefix: '/static', backends: [{ url: stat.url, weight: 1 }], stripPrefix: true },
            { host: '*.shop.local', backends: [{ url: shop.url, weight: 1 }] },
          ],
        },
      },
    });
    const cases: Array<[string, string, string, string]> = [
      ['api.local', '/v1/items', 'api', '/v1/items'],
      ['API.LOCAL:443', '/x', 'api', '/x'],
      ['www.local', '/index.html', 'web', '/index.html'],
      ['www.local', '/static/app.js', 'static', '/app.js'],
      ['www.local', '/staticky', 'web', '/staticky'],
      ['eu.shop.local', '/cart', 'shop', '/cart'],
      ['shop.local', '/cart', 'fallback', '/cart'],
      ['unknown.local', '/', 'fallback', '/'],
    ];
    for (const [host, path, backend, seen] of cases) {
      const e = echo((await request(proxy.port, path, { host })).body);
      expect([host, path, e.backend, e.path]).toEqual([host, path, backend, seen]);
    }
    expect(proxy.runtime.backends().map((s) => s.group)).toEqual(['default', 'api', 'web', 'www.local/static', '*.shop.local/']);
  });

  it('refuses to start bare reverse mode without backends, saying how to give them', async () => {
    await expect(startProxy({ flags: { mode: 'reverse' } })).rejects.toThrow(/reverse mode needs backends: --mode reverse:URL\[,URL…\], or reverse.backends, reverse.groups or reverse.routes/);
  });

  it('answers 404 when no route matches and there is no default; CONNECT is refused with 405', async () => {
    backends = [await startBackend('api')];
    const [api] = backends as [TestBackend];
    const proxy = await startProxy({ config: { mode: 'reverse', reverse: { routes: [{ host: 'api.local', backends: [{ url: api.url, weight: 1 }] }] } } });
    const r = await request(proxy.port, '/x', { host: 'other.local' });
    expect(r.status).toBe(404);
    expect(r.headers['x-proxyctl-error']).toBe('NO_ROUTE');
    expect(r.body).toContain('other.local');
    expect(api.hits).toHaveLength(0);
    const flow = await proxy.waitForFlow((f) => f.response?.status === 404);
    expect(flow.tags).toContain('no-route');
    const raw = await rawRequest(proxy.port, `CONNECT api.local:443 HTTP/1.1\r\nHost: api.local:443\r\n\r\n`);
    expect(raw.toString('latin1')).toMatch(/^HTTP\/1\.1 405 /);
  });
});

describe('reverse mode: the proxy’s own features on reverse flows', () => {
  it('rules answer before the backend, and a breakpoint pauses a reverse flow until resumed', async () => {
    backends = [await startBackend('a')];
    const [a] = backends as [TestBackend];
    const proxy = await startProxy({
      config: { mode: 'reverse', reverse: { backends: [{ url: a.url, weight: 1 }] }, rules: [{ type: 'mock', filter: '~u /mocked', status: 200, headers: {}, body: 'from a rule', enabled: true }] },
    });
    const mocked = await request(proxy.port, '/mocked');
    expect(mocked.body).toBe('from a rule');
    expect(a.hits).toHaveLength(0);

    expect(await proxy.runtime.execute({ type: 'set-intercept', filter: '~u /paused', on: ['request'] })).toEqual({ ok: true });
    const pending = request(proxy.port, '/paused', { timeoutMs: 8000 });
    const paused = await waitFor(() => proxy.flows().find((f) => f.phase === 'request-paused'), { timeoutMs: 5000, message: 'a paused reverse flow' });
    expect(paused.server.port).toBe(a.port);
    expect(a.hits).toHaveLength(0);
    expect(proxy.runtime.backends()[0]!.inFlight).toBe(1);
    expect((await proxy.runtime.execute({ type: 'resume', flowId: paused.id })).ok).toBe(true);
    const r = await pending;
    expect(echo(r.body).path).toBe('/paused');
    await waitFor(() => proxy.runtime.backends()[0]!.inFlight === 0, { timeoutMs: 3000, message: 'in-flight count back to 0' });
  });
});

describe('reverse mode: WebSocket', () => {
  it('relays an Upgrade to the chosen backend with the forwarding headers; the backend counts it until it closes', async () => {
    const server = http.createServer();
    servers.push(server);
    const wss = new WebSocketServer({ server });
    let upgradeHeaders: http.IncomingHttpHeaders = {};
    wss.on('connection', (ws, req) => {
      upgradeHeaders = req.headers;
      ws.on('message', (data) => ws.send(`echo:${String(data)}`));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const proxy = await startProxy({ flags: { mode: `reverse:${url}` } });

    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/chat`, { headers: { host: 'chat.local' } });
    sockets.push(ws);
    await once(ws, 'open');
    ws.send('hi');
    const [reply] = await once(ws, 'message');
    expect(String(reply)).toBe('echo:hi');
    expect(upgradeHeaders.host).toBe('chat.local');
    expect(upgradeHeaders['x-forwarded-for']).toBe('127.0.0.1');
    expect(upgradeHeaders['x-forwarded-host']).toBe('chat.local');
    expect(proxy.runtime.backends()[0]!.inFlight).toBe(1);
    ws.close();
    await waitFor(() => proxy.runtime.backends()[0]!.inFlight === 0, { timeoutMs: 3000, message: 'the WebSocket released its backend' });
    const flow = await proxy.waitForFlow((f) => f.kind === 'websocket');
    expect([flow.server.port, flow.request.path]).toEqual([Number(new URL(url).port), '/chat']);
  });
});
