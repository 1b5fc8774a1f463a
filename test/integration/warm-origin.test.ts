/**
 * Connecting to an origin ahead of its first request (issue 9, new hosts): when a client starts
 * TLS in a tunnel, the proxy opens the origin connection at once, unless a rule or a request
 * breakpoint could keep the request from going there. The request then uses that connection.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { RuleSpec } from '../../src/config/schema.js';
import { harTimings } from '../../src/export/har.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { openRaw, type RawSocket } from '../helpers/raw-client.js';
import { fixtureCaPaths } from '../helpers/test-ca.js';
import { waitFor } from '../helpers/wait.js';

const fixtureCaPem = readFileSync(fixtureCaPaths.cert, 'utf8');
/** Long enough for a wrongly warmed connection to reach a loopback origin. */
const QUIET_MS = 400;

describe('origin connections opened when the tunnel starts TLS', () => {
  const origins: Origin[] = [];
  const sockets: RawSocket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await stopAllProxies();
    await Promise.all(origins.splice(0).map((o) => o.close()));
  });

  async function origin(kind: 'h2' | 'h1'): Promise<Origin> {
    const o = await startOrigin(kind === 'h2' ? { http2: true } : { tls: 'valid' });
    origins.push(o);
    return o;
  }

  function proxyFor(extra: Parameters<typeof startProxy>[0] = {}): Promise<TestProxy> {
    return startProxy({ net: { resolve: new Map([['*', '127.0.0.1']]) }, ...extra });
  }

  /** CONNECT and finish the client's TLS handshake; no request yet. */
  async function tunnel(proxy: TestProxy, host: string, port: number): Promise<RawSocket> {
    const raw = await openRaw(proxy.port, { timeoutMs: 10_000 });
    sockets.push(raw);
    await raw.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
    expect(await raw.readHead(10_000)).toMatch(/^HTTP\/1\.1 200 /);
    const tls = await raw.startTls({ ca: fixtureCaPem, servername: host, ALPNProtocols: ['http/1.1'] }, 10_000);
    sockets.push(tls);
    return tls;
  }

  async function get(tls: RawSocket, host: string, port: number, path = '/hello'): Promise<{ head: string; body: string }> {
    await tls.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
    const head = await tls.readHead(10_000);
    const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
    return { head, body: (await tls.readBytes(length, 10_000)).toString() };
  }

  it('an HTTP/2 origin is connected before the request, which then goes over that connection', async () => {
    const o = await origin('h2');
    const proxy = await proxyFor();
    const tls = await tunnel(proxy, 'warm.origin.test', o.port);
    await waitFor(() => o.connections === 1, { timeoutMs: 5000, message: 'the origin connected to before any request' });
    expect(o.requests).toHaveLength(0);

    const res = await get(tls, 'warm.origin.test', o.port);
    expect(res.head).toMatch(/^HTTP\/1\.1 200 /);
    expect(res.body).toBe('hello');
    expect(o.connections).toBe(1);
    expect(o.requests[0]!.httpVersion).toBe('2.0');

    // The connection was up before the request: no connection time is put on the flow.
    const flow = await proxy.waitForFlow((f) => f.request.host === 'warm.origin.test');
    expect(flow.response?.status).toBe(200);
    const t = flow.timings;
    for (const mark of [t.upstreamConnect, t.upstreamTls]) if (mark !== null) expect(mark).toBeGreaterThanOrEqual(t.upstreamSent!);
    for (const v of Object.values(harTimings(t))) expect(v).toBeGreaterThanOrEqual(-1);
  });

  it('an HTTP/1.1-only origin: the warmed connection carries the first request', async () => {
    const o = await origin('h1');
    const proxy = await proxyFor();
    const tls = await tunnel(proxy, 'h1.origin.test', o.port);
    await waitFor(() => o.connections === 1, { timeoutMs: 5000, message: 'the origin connected to before any request' });

    for (const path of ['/hello', '/hello']) {
      const res = await get(tls, 'h1.origin.test', o.port, path);
      expect(res.head).toMatch(/^HTTP\/1\.1 200 /);
      expect(res.body).toBe('hello');
    }
    expect(o.connections).toBe(1);
    expect(o.requests.map((r) => r.httpVersion)).toEqual(['1.1', '1.1']);
    expect(new Set(o.requests.map((r) => r.remotePort)).size).toBe(1);
  });

  it('a host a block rule may stop is never contacted ahead of its request', async () => {
    const o = await origin('h2');
    const rule: Extract<RuleSpec, { type: 'block' }> = { type: 'block', filter: '~d ^blocked\\.origin\\.test$', status: 403, action: 'respond', enabled: true };
    const proxy = await proxyFor({ config: { rules: [rule] } });
    const tls = await tunnel(proxy, 'blocked.origin.test', o.port);
    await new Promise((r) => setTimeout(r, QUIET_MS));
    expect(o.connections).toBe(0);

    const res = await get(tls, 'blocked.origin.test', o.port);
    expect(res.head).toMatch(/^HTTP\/1\.1 403 /);
    await new Promise((r) => setTimeout(r, QUIET_MS));
    expect(o.connections).toBe(0);
  });

  it('with a request breakpoint set, the origin is contacted only once the request is let go', async () => {
    const o = await origin('h2');
    const proxy = await proxyFor();
    expect(await proxy.runtime.execute({ type: 'set-intercept', filter: '~u /hello', on: ['request'] })).toEqual({ ok: true });
    const tls = await tunnel(proxy, 'paused.origin.test', o.port);
    await tls.write(`GET /hello HTTP/1.1\r\nHost: paused.origin.test:${o.port}\r\n\r\n`);
    const paused = await waitFor(() => proxy.flows().find((f) => f.phase === 'request-paused'), { timeoutMs: 5000, message: 'a paused request' });
    await new Promise((r) => setTimeout(r, QUIET_MS));
    expect(o.connections).toBe(0);

    expect(await proxy.runtime.execute({ type: 'resume', flowId: paused.id })).toMatchObject({ ok: true });
    const head = await tls.readHead(10_000);
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(o.connections).toBe(1);
  });

  it('an origin that cannot be reached: the warm attempt stays silent and the request reports the failure', async () => {
    const o = await origin('h2');
    const port = o.port;
    await o.close();
    origins.splice(0);
    const proxy = await proxyFor();
    const tls = await tunnel(proxy, 'gone.origin.test', port);
    await new Promise((r) => setTimeout(r, QUIET_MS));
    const res = await get(tls, 'gone.origin.test', port);
    expect(res.head).toMatch(/^HTTP\/1\.1 502 /);
    const flow = await proxy.waitForFlow((f) => f.request.host === 'gone.origin.test');
    expect(flow.error?.code).toBe('UPSTREAM_REFUSED');
    expect(proxy.flows().filter((f) => f.request.host === 'gone.origin.test')).toHaveLength(1);
  });

  it('a client that leaves right after its TLS hello: the warm connection is made, no handshake is begun or timed out', async () => {
    const o = await origin('h2');
    const proxy = await proxyFor({ net: { resolve: new Map([['*', '127.0.0.1']]), handshakeTimeoutMs: 300 } });
    const raw = await openRaw(proxy.port, { timeoutMs: 10_000 });
    sockets.push(raw);
    await raw.write(`CONNECT left.origin.test:${o.port} HTTP/1.1\r\nHost: left.origin.test:${o.port}\r\n\r\n`);
    expect(await raw.readHead(10_000)).toMatch(/^HTTP\/1\.1 200 /);
    // A TLS record header is all the proxy needs to see to take the tunnel for TLS.
    await raw.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05]));
    raw.close();
    await waitFor(() => o.connections === 1, { timeoutMs: 5000, message: 'the warm connection to the origin' });
    await new Promise((r) => setTimeout(r, 3 * 300));
    const log = proxy.runtime.store.getSnapshot().log.map((e) => e.message);
    expect(log.filter((m) => /handshake/.test(m))).toEqual([]);
  });
});
