/**
 * Idle HTTP/1 client connections (issue 9: memory per idle connection): the proxy's own HTTP/1
 * server keeps nothing but the socket between requests. What a client sees after a pause: the next request on the connection is served (plain, inside
 * an intercepted TLS tunnel, pipelined), a request head that trickles in across sweeps is not lost,
 * and the idle timeout still closes an idle connection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { openRaw, type RawSocket } from '../helpers/raw-client.js';
import { readFixtureCaPem } from '../helpers/test-ca.js';
import { waitFor } from '../helpers/wait.js';

/** A pause long enough for a connection to count as idle (the old parking sweep ran every second). */
const PAUSE_MS = 1200;
const pause = (ms = PAUSE_MS) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number;
  body: string;
}

/** One Content-Length framed HTTP/1.1 response (what the proxy sends for the origin's /hello). */
async function readAnswer(raw: RawSocket): Promise<Answer> {
  const head = await raw.readHead();
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
  return { status, body: (await raw.readBytes(len)).toString('latin1') };
}

describe('idle HTTP/1 connection parking', () => {
  const origins: Origin[] = [];
  const sockets: RawSocket[] = [];

  async function open(proxy: TestProxy): Promise<RawSocket> {
    const raw = await openRaw(proxy.port);
    sockets.push(raw);
    return raw;
  }

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await stopAllProxies();
    await Promise.all(origins.splice(0).map((o) => o.close()));
  });

  it('parks an idle keep-alive connection and serves its next requests', async () => {
    const origin = await startOrigin();
    origins.push(origin);
    const proxy = await startProxy();
    const raw = await open(proxy);
    const get = `GET ${origin.url}/hello HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`;

    await raw.write(get);
    expect(await readAnswer(raw)).toEqual({ status: 200, body: 'hello' });
    await pause();

    // Two pipelined requests in one write wake it: both are answered, in order, on this connection.
    await raw.write(get + get);
    expect(await readAnswer(raw)).toEqual({ status: 200, body: 'hello' });
    expect(await readAnswer(raw)).toEqual({ status: 200, body: 'hello' });
    expect(raw.ended).toBe(false);

    // Parked again, and a third request still works.
    await pause();
    await raw.write(get);
    expect(await readAnswer(raw)).toEqual({ status: 200, body: 'hello' });

    const flows = await proxy.waitForFlows(4);
    expect(flows.map((f) => [f.request.host, f.request.path, f.response?.status])).toEqual(Array.from({ length: 4 }, () => ['127.0.0.1', '/hello', 200]));
    // All four on one client connection.
    expect(new Set(flows.map((f) => f.client.port)).size).toBe(1);
  });

  it('parks the HTTP/1 connection inside an intercepted TLS tunnel and keeps its target', async () => {
    const origin = await startOrigin({ tls: 'valid' });
    origins.push(origin);
    const proxy = await startProxy();
    const ca = await readFixtureCaPem();
    const raw = await open(proxy);
    const authority = `localhost:${origin.port}`;
    await raw.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    expect(await raw.readHead()).toMatch(/^HTTP\/1\.1 200 /);
    const tls = await raw.startTls({ ca: ca.cert, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
    const get = `GET /hello HTTP/1.1\r\nHost: ${authority}\r\n\r\n`;

    await tls.write(get);
    expect(await readAnswer(tls)).toEqual({ status: 200, body: 'hello' });
    await pause();
    await tls.write(get);
    expect(await readAnswer(tls)).toEqual({ status: 200, body: 'hello' });

    const flows = await proxy.waitForFlows(2);
    for (const f of flows) {
      expect([f.request.scheme, f.request.host, f.request.port, f.request.path]).toEqual(['https', 'localhost', origin.port, '/hello']);
      expect(f.client.sni).toBe('localhost');
    }
    expect(origin.requests).toHaveLength(2);

    // Stopping the proxy closes a idle TLS connection too.
    await pause();
    await proxy.stop();
    await tls.closed();
  });

  it('does not park a connection whose request head is still arriving', async () => {
    const origin = await startOrigin();
    origins.push(origin);
    const proxy = await startProxy();
    const raw = await open(proxy);

    await raw.write(`GET ${origin.url}/hello HTTP/1.1\r\n`);
    // Several sweeps pass with half a request head in the parser.
    await new Promise((r) => setTimeout(r, PAUSE_MS));
    await raw.write(`Host: 127.0.0.1:${origin.port}\r\n\r\n`);
    expect(await readAnswer(raw)).toEqual({ status: 200, body: 'hello' });
  });

  it('closes a idle connection at the idle timeout and forgets it', async () => {
    const origin = await startOrigin();
    origins.push(origin);
    const proxy = await startProxy({ net: { clientIdleTimeoutMs: 2000 } });
    const raw = await open(proxy);

    await raw.write(`GET ${origin.url}/hello HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
    expect(await readAnswer(raw)).toEqual({ status: 200, body: 'hello' });
    await pause();
    await raw.closed(8000);
    await waitFor(() => proxy.runtime.proxy.openConnections === 0, { message: 'the proxy to forget the closed connection' });
  });

  it('forgets a idle connection the client closes', async () => {
    const origin = await startOrigin();
    origins.push(origin);
    const proxy = await startProxy();
    const raw = await open(proxy);

    await raw.write(`GET ${origin.url}/hello HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
    expect(await readAnswer(raw)).toEqual({ status: 200, body: 'hello' });
    await pause();
    raw.end();
    await waitFor(() => proxy.runtime.proxy.openConnections === 0, { message: 'the proxy to close its side and forget the connection' });
    expect(await raw.closed()).toBe(false);
  });
});
