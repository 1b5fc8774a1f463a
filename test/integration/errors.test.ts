/**
 * Traffic errors through the real proxy (DESIGN.md §1.6): each becomes an HTTP answer the client can
 * read (or a cut connection once a response is under way) and a stable error code on the flow, and
 * nothing leaks afterwards.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowErrorCode } from '../../src/proxy/core/flow.js';
import { curlRequest, header } from '../helpers/curl.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { openRaw, rawRequest, type RawSocket } from '../helpers/raw-client.js';
import { waitFor } from '../helpers/wait.js';

/** A label longer than 63 octets (RFC 1035 §2.3.4): the resolver refuses it without a DNS query. */
const UNRESOLVABLE = `${'a'.repeat(73)}.invalid`;

function statusOf(response: Buffer): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response.toString('latin1'))?.[1] ?? 0);
}

/** Open sockets of a server right now. */
function openSockets(origin: Origin): Promise<number> {
  return new Promise((resolve, reject) => origin.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

describe('errors', () => {
  let origin: Origin | undefined;
  let proxy: TestProxy;
  const sockets: RawSocket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await stopAllProxies();
    await origin?.close();
    origin = undefined;
  });

  async function open(): Promise<RawSocket> {
    const raw = await openRaw(proxy.port);
    sockets.push(raw);
    return raw;
  }

  describe('bad requests from the client', () => {
    it('malformed request → 400 and BAD_REQUEST', async () => {
      proxy = await startProxy();
      const res = await rawRequest(proxy.port, 'GARBAGE\r\n\r\n');
      expect(statusOf(res)).toBe(400);
      const flow = await proxy.waitForFlow(() => true);
      expect(flow.phase).toBe('error');
      expect(flow.error?.code).toBe('BAD_REQUEST');
      expect(flow.response?.status).toBe(400);
    });

    it('a 20 KB header → 431 and HEADERS_TOO_LARGE', async () => {
      origin = await startOrigin();
      proxy = await startProxy();
      const res = await rawRequest(proxy.port, `GET ${origin.url}/hello HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nX-Big: ${'x'.repeat(20 * 1024)}\r\n\r\n`);
      expect(statusOf(res)).toBe(431);
      const flow = await proxy.waitForFlow(() => true);
      expect(flow.error?.code).toBe('HEADERS_TOO_LARGE');
      expect(flow.response?.status).toBe(431);
      expect(origin.requests).toEqual([]);
    });
  });

  describe('upstream failures → an error page and a code', () => {
    async function expectErrorPage(url: string, status: number, code: FlowErrorCode, reason: RegExp): Promise<void> {
      const res = await curlRequest(url, { proxy: proxy.url, timeoutMs: 10_000 });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(status);
      expect(header(res.headers, 'content-type')).toMatch(/^text\/html/);
      const page = res.body.toString();
      expect(page).toContain(code);
      expect(page).toMatch(reason);
      const flow = await proxy.waitForFlow(() => true);
      expect(flow.phase).toBe('error');
      expect(flow.error?.code).toBe(code);
      expect(flow.response?.status).toBe(status);
    }

    it('DNS failure → 502 UPSTREAM_DNS', async () => {
      proxy = await startProxy();
      await expectErrorPage(`http://${UNRESOLVABLE}/x`, 502, 'UPSTREAM_DNS', /DNS/);
    });

    it('refused connection → 502 UPSTREAM_REFUSED', async () => {
      proxy = await startProxy();
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as net.AddressInfo).port;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await expectErrorPage(`http://127.0.0.1:${port}/x`, 502, 'UPSTREAM_REFUSED', /refused/i);
    });

    it('reset by the origin (/reset) → 502 UPSTREAM_RESET', async () => {
      origin = await startOrigin();
      proxy = await startProxy();
      await expectErrorPage(`${origin.url}/reset`, 502, 'UPSTREAM_RESET', /reset|closed/i);
    });

    it('no answer within upstreamTimeoutMs (/hang) → 504 UPSTREAM_TIMEOUT', async () => {
      origin = await startOrigin();
      proxy = await startProxy({ net: { upstreamTimeoutMs: 500 } });
      const t0 = Date.now();
      await expectErrorPage(`${origin.url}/hang`, 504, 'UPSTREAM_TIMEOUT', /in time|timed out|within/i);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
      expect(Date.now() - t0).toBeLessThan(5000);
    });

    it('--upstream-timeout sets the same bound', async () => {
      origin = await startOrigin();
      proxy = await startProxy({ flags: { upstreamTimeout: '500' } });
      await expectErrorPage(`${origin.url}/hang`, 504, 'UPSTREAM_TIMEOUT', /in time|timed out|within/i);
    });
  });

  it('an origin that dies mid-body: the client connection is cut and the flow has an error', async () => {
    origin = await startOrigin();
    proxy = await startProxy();
    const size = 1024 * 1024 * 1024;
    const raw = await open();
    await raw.write(`GET ${origin.url}/bytes/${size} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
    const head = await raw.readHead();
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head).toMatch(new RegExp(`content-length: ${size}\r\n`, 'i'));
    await raw.readBytes(64 * 1024);
    // Stop reading so the origin stalls on backpressure, then kill it mid-body.
    raw.socket.pause();
    await origin.close();
    raw.socket.resume();
    await raw.closed(5000);
    const received = 64 * 1024 + raw.buffered.length;
    expect(received).toBeLessThan(size);
    const flow = await proxy.waitForFlow(() => true);
    expect(flow.phase).toBe('error');
    expect(flow.error?.code).toBe('UPSTREAM_RESET');
    expect(flow.response?.status).toBe(200);
    // The flow keeps what did pass, sealed as aborted.
    expect(flow.response?.body.state).toBe('aborted');
    expect(flow.response?.body.size).toBeGreaterThanOrEqual(64 * 1024);
    expect(flow.response?.body.bytes?.length).toBe(Math.min(flow.response!.body.size, 4 * 1024 * 1024));
    await waitFor(() => proxy.runtime.proxy.openConnections === 0, { message: 'proxy connections to close' });
  });

  it('a client that vanishes mid-flow: CLIENT_ABORTED and no leaked sockets', async () => {
    origin = await startOrigin();
    proxy = await startProxy();
    const raw = await open();
    await raw.write(`GET ${origin.url}/bytes/100000000 HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
    expect(await raw.readHead()).toMatch(/^HTTP\/1\.1 200 /);
    await raw.readBytes(100 * 1024);
    expect(await openSockets(origin)).toBe(1);
    raw.close();

    const flow = await proxy.waitForFlow(() => true);
    expect(flow.phase).toBe('error');
    expect(flow.error?.code).toBe('CLIENT_ABORTED');
    await waitFor(() => proxy.runtime.proxy.openConnections === 0, { message: 'proxy client connections to close', timeoutMs: 5000 });
    const o = origin;
    await waitFor(async () => (await openSockets(o)) === 0, { message: 'the upstream connection to close', timeoutMs: 5000 });
  });
});
