/**
 * HTTP/2 interception through the real proxy (issue 3): every combination of client and origin
 * protocol, bodies and trailers both ways, the h1<->h2 header translation as the origin sees it,
 * prior-knowledge h2c on the listener, and reuse of upstream connections (one h2 session per
 * origin; the ALPN probe's connection adopted by the h1 pool).
 *
 * Clients: real curl (`-x http://127.0.0.1:PORT --cacert <proxy CA>`), and Node's http2 client
 * through a CONNECT tunnel when a test needs exact control of the HTTP/2 header list.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { curlRequest, header } from '../helpers/curl.js';
import { CHUNKED_PARTS, startOrigin, type Origin } from '../helpers/origin.js';
import { originCerts } from '../helpers/origin-certs.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { openRaw, type RawSocket } from '../helpers/raw-client.js';
import { fixtureCaPaths } from '../helpers/test-ca.js';
import { withTimeout } from '../helpers/wait.js';
import { openH2Tunnel } from '../helpers/h2-tunnel.js';

const MiB = 1024 * 1024;
const proxyCaPem = readFileSync(fixtureCaPaths.cert, 'utf8');

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function pairsOf(raw: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/** Every value of a field in a raw header list, case-insensitive. */
function valuesOf(raw: readonly string[], name: string): string[] {
  const lower = name.toLowerCase();
  return pairsOf(raw)
    .filter(([k]) => k.toLowerCase() === lower)
    .map(([, v]) => v);
}

function namesOf(raw: readonly string[]): string[] {
  return pairsOf(raw).map(([k]) => k.toLowerCase());
}

// --- Node's HTTP/2 client through a CONNECT tunnel --------------------------------------------

/** Sessions and sockets opened by a test; closed in afterEach. */
const clientSessions = new Set<http2.ClientHttp2Session>();
const clientSockets = new Set<net.Socket>();

/**
 * CONNECT to `localhost:originPort` through the proxy, TLS with ALPN h2 (trusting the proxy CA),
 * and an HTTP/2 session on top. Fails when the proxy does not negotiate h2.
 */
async function h2ViaProxy(proxy: TestProxy, originPort: number): Promise<http2.ClientHttp2Session> {
  const session = await openH2Tunnel(proxy.port, originPort, proxyCaPem, (raw) => clientSockets.add(raw));
  clientSessions.add(session);
  return session;
}

interface H2Result {
  status: number;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders | null;
  body: Buffer;
}

/** Collect one stream's response. Rejects on a stream error. */
function collect(stream: http2.ClientHttp2Stream, timeoutMs = 10_000): Promise<H2Result> {
  return withTimeout(
    new Promise<H2Result>((resolve, reject) => {
      let headers: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders | null = null;
      const chunks: Buffer[] = [];
      stream.on('response', (h) => (headers = h));
      stream.on('trailers', (t) => (trailers = t));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve({ status: Number(headers[':status']), headers, trailers, body: Buffer.concat(chunks) }));
      stream.on('error', reject);
    }),
    timeoutMs,
    'an HTTP/2 response through the proxy',
  );
}

/** A whole request on a session: headers, optional body, optional request trailers. */
function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, opts: { body?: Buffer; trailers?: http2.OutgoingHttpHeaders } = {}): Promise<H2Result> {
  const hasBody = opts.body !== undefined || opts.trailers !== undefined;
  const stream = session.request(headers, { endStream: !hasBody, ...(opts.trailers ? { waitForTrailers: true } : {}) });
  if (opts.trailers) {
    const t = opts.trailers;
    stream.once('wantTrailers', () => stream.sendTrailers(t));
  }
  if (hasBody) stream.end(opts.body ?? Buffer.alloc(0));
  return collect(stream);
}

// --- the tests --------------------------------------------------------------------------------

describe('HTTP/2 interception', () => {
  let origin: Origin | undefined;
  let proxy: TestProxy;

  const rawSockets: RawSocket[] = [];
  const closers: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const r of rawSockets.splice(0)) r.close();
    for (const s of clientSessions) s.destroy();
    clientSessions.clear();
    for (const s of clientSockets) s.destroy();
    clientSockets.clear();
    await stopAllProxies();
    await origin?.close();
    origin = undefined;
    await Promise.all(closers.splice(0).map((c) => c()));
  });

  /** Origin speaking h2 (+ http/1.1 by ALPN) or only HTTP/1.1 over TLS. */
  async function setup(upstream: 'h2' | 'h1'): Promise<Origin> {
    origin = await startOrigin(upstream === 'h2' ? { tls: 'valid', http2: true } : { tls: 'valid' });
    proxy = await startProxy();
    return origin;
  }

  describe('client leg x upstream leg', () => {
    const combos = [
      { client: '2', upstream: 'h2', originVersion: '2.0', flowResponse: '2' },
      { client: '2', upstream: 'h1', originVersion: '1.1', flowResponse: '1.1' },
      { client: '1.1', upstream: 'h2', originVersion: '2.0', flowResponse: '2' },
      { client: '1.1', upstream: 'h1', originVersion: '1.1', flowResponse: '1.1' },
    ] as const;

    it.each(combos)('curl --http$client -> proxy -> $upstream origin: versions on both legs, 1 MiB both ways intact', async ({ client, upstream, originVersion, flowResponse }) => {
      const o = await setup(upstream);
      const body = randomBytes(MiB);
      const res = await curlRequest(`${o.url}/echo`, { proxy: proxy.url, cacert: fixtureCaPaths.cert, http: client, method: 'POST', data: body, headers: [['Content-Type', 'application/x-test']] });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      // Client leg, as curl saw it and as the flow records it.
      expect(res.httpVersion).toBe(client);
      // Upstream leg, as the origin saw it.
      const got = o.requests.at(-1)!;
      expect(got.httpVersion).toBe(originVersion);
      expect(got.method).toBe('POST');
      expect(got.bodySize).toBe(MiB);
      expect(got.bodySha256).toBe(sha256(body));
      expect(res.body.length).toBe(MiB);
      expect(sha256(res.body)).toBe(sha256(body));
      expect(header(res.headers, 'content-type')).toBe('application/x-test');

      const [flow] = await proxy.waitForFlows(1);
      // (h1 client -> h2 origin: see the END_STREAM test below for why this can say CLIENT_ABORTED.)
      expect(flow!.error).toBeNull();
      expect(flow!.phase).toBe('done');
      expect(flow!.request.httpVersion).toBe(client);
      expect(flow!.response?.httpVersion).toBe(flowResponse);
      expect(flow!.server.alpn).toBe(upstream === 'h2' ? 'h2' : 'http/1.1');
      expect(flow!.client.alpn).toBe(client === '2' ? 'h2' : 'http/1.1');
      expect(flow!.request.body.size).toBe(MiB);
      expect(flow!.response?.body.size).toBe(MiB);
    });

    it.each(combos)('curl --http$client -> $upstream origin: response trailers from /chunked reach the client', async ({ client, upstream }) => {
      const o = await setup(upstream);
      const res = await curlRequest(`${o.url}/chunked`, { proxy: proxy.url, cacert: fixtureCaPaths.cert, http: client });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe(CHUNKED_PARTS.join(''));
      expect(res.trailers).toEqual([['x-trailer', 'done']]);
      const flow = await proxy.waitForFlow((f) => f.request.path === '/chunked');
      expect(flow.response?.trailers).toEqual([['x-trailer', 'done']]);
    });
  });

  describe('Node h2 client through the tunnel', () => {
    it.each(['h2', 'h1'] as const)('response trailers arrive as an HTTP/2 trailer block (%s origin)', async (upstream) => {
      const o = await setup(upstream);
      const session = await h2ViaProxy(proxy, o.port);
      const res = await h2Request(session, { ':path': '/chunked' });
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe(CHUNKED_PARTS.join(''));
      expect(res.trailers?.['x-trailer']).toBe('done');
    });

    it('cookie crumbs become one Cookie header for an h1 origin, in order (RFC 9113 §8.2.3)', async () => {
      const o = await setup('h1');
      const session = await h2ViaProxy(proxy, o.port);
      const res = await h2Request(session, { ':path': '/hello', cookie: ['a=1', 'b=2', 'c=3'], 'x-after': 'x' });
      expect(res.status).toBe(200);
      const got = o.requests.at(-1)!;
      expect(got.httpVersion).toBe('1.1');
      expect(valuesOf(got.rawHeaders, 'cookie')).toEqual(['a=1; b=2; c=3']);
      // Host comes first, from :authority.
      expect(pairsOf(got.rawHeaders)[0]).toEqual(['host', `localhost:${o.port}`]);
      expect(valuesOf(got.rawHeaders, 'x-after')).toEqual(['x']);
      // The flow keeps the crumbs as the client sent them.
      const flow = await proxy.waitForFlow((f) => f.request.path === '/hello');
      expect(flow.request.headers.filter(([k]) => k === 'cookie').map(([, v]) => v)).toEqual(['a=1', 'b=2', 'c=3']);
    });

    it('te: trailers from an h2 client reaches an h2 origin', async () => {
      const o = await setup('h2');
      const session = await h2ViaProxy(proxy, o.port);
      const res = await h2Request(session, { ':path': '/hello', te: 'trailers' });
      expect(res.status).toBe(200);
      const got = o.requests.at(-1)!;
      expect(got.httpVersion).toBe('2.0');
      expect(valuesOf(got.rawHeaders, 'te')).toEqual(['trailers']);
      expect(valuesOf(got.rawHeaders, ':authority')).toEqual([`localhost:${o.port}`]);
    });

    it.each(['h2', 'h1'] as const)('request trailers announced by an h2 client reach the %s origin', async (upstream) => {
      const o = await setup(upstream);
      const session = await h2ViaProxy(proxy, o.port);
      const body = randomBytes(100 * 1024);
      const res = await h2Request(session, { ':method': 'POST', ':path': '/echo', trailer: 'x-req-trailer' }, { body, trailers: { 'x-req-trailer': 'req-done' } });
      expect(res.status).toBe(200);
      expect(sha256(res.body)).toBe(sha256(body));
      const got = o.requests.at(-1)!;
      expect(got.complete).toBe(true);
      expect(got.bodySha256).toBe(sha256(body));
      expect(pairsOf(got.trailers).map(([k, v]) => [k.toLowerCase(), v])).toEqual([['x-req-trailer', 'req-done']]);
      const flow = await proxy.waitForFlow((f) => f.request.path === '/echo');
      expect(flow.request.trailers).toEqual([['x-req-trailer', 'req-done']]);
    });

    it('a host field from an h2 client does not reach an h2 origin (only :authority does)', async () => {
      const o = await setup('h2');
      const session = await h2ViaProxy(proxy, o.port);
      const res = await h2Request(session, { ':path': '/hello', host: `localhost:${o.port}` });
      expect(res.status).toBe(200);
      const got = o.requests.at(-1)!;
      expect(namesOf(got.rawHeaders)).not.toContain('host');
      expect(valuesOf(got.rawHeaders, ':authority')).toEqual([`localhost:${o.port}`]);
    });
  });

  describe('connection-specific fields (RFC 9113 §8.2.2)', () => {
    it('an HTTP/1.1 client\'s hop-by-hop fields never reach an h2 origin; TE: trailers does', async () => {
      const o = await setup('h2');
      const res = await curlRequest(`${o.url}/hello`, {
        proxy: proxy.url,
        cacert: fixtureCaPaths.cert,
        http: '1.1',
        headers: [
          ['Connection', 'X-Hop, TE'],
          ['X-Hop', 'secret'],
          ['Keep-Alive', 'timeout=5'],
          ['Proxy-Connection', 'keep-alive'],
          ['HTTP2-Settings', 'AAMAAABkAAQAoAAAAAIAAAAA'],
          ['TE', 'trailers'],
          ['X-End-To-End', 'kept'],
        ],
      });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      const got = o.requests.at(-1)!;
      expect(got.httpVersion).toBe('2.0');
      const names = namesOf(got.rawHeaders);
      for (const n of ['connection', 'x-hop', 'keep-alive', 'proxy-connection', 'http2-settings', 'upgrade', 'transfer-encoding', 'host']) expect(names).not.toContain(n);
      expect(valuesOf(got.rawHeaders, 'te')).toEqual(['trailers']);
      expect(valuesOf(got.rawHeaders, 'x-end-to-end')).toEqual(['kept']);
      // The flow still shows what the client sent.
      const flow = await proxy.waitForFlow((f) => f.request.path === '/hello');
      expect(flow.request.headers.map(([k]) => k.toLowerCase())).toEqual(expect.arrayContaining(['connection', 'x-hop', 'keep-alive']));
    });

    it('an h2 client\'s request to an h1 origin carries no connection-specific fields but Host', async () => {
      const o = await setup('h1');
      const session = await h2ViaProxy(proxy, o.port);
      const res = await h2Request(session, { ':path': '/hello', 'x-a': '1' });
      expect(res.status).toBe(200);
      const got = o.requests.at(-1)!;
      const names = namesOf(got.rawHeaders);
      expect(names.filter((n) => n.startsWith(':'))).toEqual([]);
      expect(valuesOf(got.rawHeaders, 'host')).toEqual([`localhost:${o.port}`]);
      expect(names).not.toContain('transfer-encoding');
      expect(valuesOf(got.rawHeaders, 'x-a')).toEqual(['1']);
    });
  });

  it('an h1 origin\'s Connection: close and Keep-Alive never reach an h2 client; the next request gets a new connection', async () => {
    const o = await setup('h1');
    const session = await h2ViaProxy(proxy, o.port);
    const res = await h2Request(session, { ':path': '/close' });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('closing\n');
    for (const n of ['connection', 'keep-alive', 'transfer-encoding']) expect(res.headers[n]).toBeUndefined();
    const again = await h2Request(session, { ':path': '/hello' });
    expect(again.status).toBe(200);
    expect(o.connections).toBe(2);
  });

  it('HTTP/1.1 client, h2 origin whose END_STREAM comes after the last byte: a client that got the whole Content-Length body is not recorded as CLIENT_ABORTED', async () => {
    // An h2 origin that sends the whole declared body at once and ends the stream 300 ms later.
    const server = http2.createSecureServer({ key: originCerts.valid.key, cert: originCerts.valid.cert });
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on('session', (s) => {
      sessions.add(s);
      s.on('error', () => {
        // Torn down in afterEach.
      });
    });
    server.on('stream', (stream) => {
      stream.on('error', () => {
        // The proxy may cancel it.
      });
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': '5' });
      stream.write('hello');
      const t = setTimeout(() => stream.end(), 300);
      stream.once('close', () => clearTimeout(t));
    });
    server.listen(0, '127.0.0.1');
    await withTimeout(new Promise((r) => server.once('listening', r)), 5000, 'the h2 origin to listen');
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sessions) s.destroy();
          server.close(() => resolve());
        }),
    );
    const port = (server.address() as net.AddressInfo).port;
    proxy = await startProxy();

    const raw = await openRaw(proxy.port);
    rawSockets.push(raw);
    await raw.write(`CONNECT localhost:${port} HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`);
    expect(await raw.readHead()).toMatch(/^HTTP\/1\.1 200 /);
    const t = await raw.startTls({ ca: proxyCaPem, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
    rawSockets.push(t);
    await t.write(`GET /late-end HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`);
    const head = await t.readHead();
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head).toMatch(/\r\ncontent-length: 5\r\n/i);
    expect((await t.readBytes(5)).toString()).toBe('hello');
    // The client has the complete response (RFC 9112 §6.3: Content-Length delimits it) and leaves.
    t.close();

    const flow = await proxy.waitForFlow((f) => f.request.path === '/late-end', 3000);
    expect(flow.error).toBeNull();
    expect(flow.phase).toBe('done');
    expect(flow.response?.status).toBe(200);
    expect(flow.response?.body.size).toBe(5);
  });

  it('h2 with prior knowledge inside a CONNECT tunnel (curl --proxytunnel --http2-prior-knowledge) reaches a plain h1 origin', async () => {
    origin = await startOrigin();
    proxy = await startProxy();
    const res = await curlRequest(`${origin.url}/hello`, { proxy: proxy.url, http: '2-prior-knowledge', extra: ['--proxytunnel'] });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.status).toBe(200);
    expect(res.httpVersion).toBe('2');
    expect(res.body.toString()).toBe('hello');
    const flow = await proxy.waitForFlow((f) => f.request.path === '/hello');
    expect(flow.phase).toBe('done');
    expect(flow.request.httpVersion).toBe('2');
    expect(flow.request.scheme).toBe('http');
    expect(flow.request.port).toBe(origin.port);
  });

  it('h2 with prior knowledge to the proxy itself (h2c, no TLS) reaches a plain h1 origin', async () => {
    origin = await startOrigin();
    proxy = await startProxy();
    const res = await curlRequest(`http://localhost:${origin.port}/hello`, {
      http: '2-prior-knowledge',
      extra: ['--connect-to', `localhost:${origin.port}:127.0.0.1:${proxy.port}`],
    });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.status).toBe(200);
    expect(res.httpVersion).toBe('2');
    expect(res.body.toString()).toBe('hello');
    expect(origin.requests.at(-1)?.httpVersion).toBe('1.1');
    const flow = await proxy.waitForFlow((f) => f.request.path === '/hello');
    expect(flow.phase).toBe('done');
    expect(flow.request.httpVersion).toBe('2');
    expect(flow.request.scheme).toBe('http');
    expect(flow.request.host).toBe('localhost');
    expect(flow.request.port).toBe(origin.port);
    expect(flow.response?.httpVersion).toBe('1.1');
  });

  describe('upstream connection reuse', () => {
    it('20 requests from separate curl processes share one h2 session with the origin', async () => {
      const o = await setup('h2');
      // Four waves of five concurrent processes: the first wave races for the one probe.
      for (let wave = 0; wave < 4; wave++) {
        const results = await Promise.all(Array.from({ length: 5 }, (_, i) => curlRequest(`${o.url}/hello?n=${wave * 5 + i}`, { proxy: proxy.url, cacert: fixtureCaPaths.cert, http: '2' })));
        for (const r of results) {
          expect(r.exitCode, r.stderr).toBe(0);
          expect(r.status).toBe(200);
          expect(r.body.toString()).toBe('hello');
        }
      }
      expect(o.requests).toHaveLength(20);
      expect(o.requests.every((r) => r.httpVersion === '2.0')).toBe(true);
      expect(o.connections).toBe(1);
      const flows = await proxy.waitForFlows(20);
      expect(flows.filter((f) => f.phase === 'done')).toHaveLength(20);
    });

    it('an h1-only TLS origin: the probing connection is adopted, 5 sequential requests use 1 connection', async () => {
      const o = await setup('h1');
      for (let i = 0; i < 5; i++) {
        const r = await curlRequest(`${o.url}/hello?n=${i}`, { proxy: proxy.url, cacert: fixtureCaPaths.cert, http: '2' });
        expect(r.exitCode, r.stderr).toBe(0);
        expect(r.status).toBe(200);
      }
      expect(o.requests).toHaveLength(5);
      expect(o.requests.every((r) => r.httpVersion === '1.1')).toBe(true);
      expect(o.connections).toBe(1);
    });
  });
});
