/**
 * Never-seen host names through the real proxy (issue 9): many at once (their handshakes are spread
 * over event-loop turns), with other traffic on an open connection meanwhile, and a client whose SNI
 * is not the CONNECT host. Every name gets a leaf of its own and an answer from the origin.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { openRaw, type RawSocket } from '../helpers/raw-client.js';
import { fixtureCaPaths } from '../helpers/test-ca.js';
import { waitFor } from '../helpers/wait.js';

const fixtureCaPem = readFileSync(fixtureCaPaths.cert, 'utf8');
const fixtureCa = new X509Certificate(fixtureCaPem);

describe('never-seen host names', () => {
  const origins: Origin[] = [];
  const sockets: RawSocket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await stopAllProxies();
    await Promise.all(origins.splice(0).map((o) => o.close()));
  });

  /** An h2 origin whose certificate covers *.origin.test, and a proxy resolving every name to it. */
  async function setup(): Promise<{ origin: Origin; proxy: TestProxy }> {
    const origin = await startOrigin({ http2: true });
    origins.push(origin);
    const proxy = await startProxy({ net: { resolve: new Map([['*', '127.0.0.1']]) } });
    return { origin, proxy };
  }

  /** CONNECT `host`, TLS with `servername` (default: the same name), one GET /hello. */
  async function fetchThrough(proxy: TestProxy, host: string, port: number, servername = host): Promise<{ san: string | undefined; head: string; body: string }> {
    const raw = await openRaw(proxy.port, { timeoutMs: 10_000 });
    sockets.push(raw);
    await raw.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
    expect(await raw.readHead(10_000)).toMatch(/^HTTP\/1\.1 200 /);
    const tls = await raw.startTls({ ca: fixtureCaPem, servername, ALPNProtocols: ['http/1.1'] }, 10_000);
    sockets.push(tls);
    const peer = tls.socket.getPeerX509Certificate();
    expect(peer?.checkIssued(fixtureCa)).toBe(true);
    await tls.write(`GET /hello HTTP/1.1\r\nHost: ${servername}:${port}\r\n\r\n`);
    const head = await tls.readHead(10_000);
    const body = (await tls.readBytes(5, 10_000)).toString();
    return { san: peer?.subjectAltName, head, body };
  }

  it('twenty new names at once: each client gets a leaf for its own name and the answer', async () => {
    const { origin, proxy } = await setup();
    const tag = Date.now().toString(36);
    const names = Array.from({ length: 20 }, (_, i) => `b${i}-${tag}.origin.test`);
    const results = await Promise.all(names.map((name) => fetchThrough(proxy, name, origin.port)));
    results.forEach((r, i) => {
      expect(r.san).toBe(`DNS:${names[i]}`);
      expect(r.head).toMatch(/^HTTP\/1\.1 200 /);
      expect(r.body).toBe('hello');
    });
    const flows = await waitFor(() => {
      const done = proxy.flows().filter((f) => f.kind === 'http' && f.phase === 'done');
      return done.length >= names.length ? done : null;
    }, { timeoutMs: 10_000, message: 'twenty finished flows' });
    expect(flows.map((f) => f.request.host).sort()).toEqual([...names].sort());
  });

  it('other traffic on an open connection is answered while twenty new names start', async () => {
    const { origin, proxy } = await setup();
    const tag = Date.now().toString(36);
    // A connection that is already through its handshake, as other traffic would be.
    const raw = await openRaw(proxy.port, { timeoutMs: 10_000 });
    sockets.push(raw);
    await raw.write(`CONNECT origin.test:${origin.port} HTTP/1.1\r\nHost: origin.test:${origin.port}\r\n\r\n`);
    expect(await raw.readHead(10_000)).toMatch(/^HTTP\/1\.1 200 /);
    const tls = await raw.startTls({ ca: fixtureCaPem, servername: 'origin.test', ALPNProtocols: ['http/1.1'] }, 10_000);
    sockets.push(tls);

    const burst = Promise.all(Array.from({ length: 20 }, (_, i) => fetchThrough(proxy, `o${i}-${tag}.origin.test`, origin.port)));
    for (let i = 0; i < 5; i++) {
      await tls.write(`GET /hello HTTP/1.1\r\nHost: origin.test:${origin.port}\r\n\r\n`);
      expect(await tls.readHead(10_000)).toMatch(/^HTTP\/1\.1 200 /);
      expect((await tls.readBytes(5, 10_000)).toString()).toBe('hello');
    }
    const results = await burst;
    expect(results.map((r) => r.body)).toEqual(Array(20).fill('hello'));
  });

  it('a client whose SNI differs from the CONNECT host gets a leaf for its SNI', async () => {
    const { origin, proxy } = await setup();
    const tag = Date.now().toString(36);
    const r = await fetchThrough(proxy, `connect-${tag}.origin.test`, origin.port, `sni-${tag}.origin.test`);
    expect(r.san).toBe(`DNS:sni-${tag}.origin.test`);
    expect(r.head).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.body).toBe('hello');
  });
});
