/**
 * Response compression (issue 8 item 5): gzip and br for compressible types when the client accepts
 * them and the origin did not compress already; Content-Length dropped, `Vary: Accept-Encoding`
 * merged, strong ETags made weak; HEAD, 304, 206, SSE, small bodies, no-transform and compressed
 * bodies pass untouched; the flow keeps the origin's bytes and a `compressed:CODING` tag.
 *
 * Clients: curl `--compressed` (decodes, as a browser would) and curl with a raw Accept-Encoding
 * (does not decode, so the bytes on the wire are checked), over plain HTTP and through HTTPS
 * interception with h2 on both sides; Node's http client where the timing of a stream matters.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { brotliDecompressSync, createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { curlRequest, header, type CurlRequestOptions, type CurlResponse } from '../helpers/curl.js';
import { originCerts } from '../helpers/origin-certs.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { fixtureCaPaths } from '../helpers/test-ca.js';
import { withTimeout } from '../helpers/wait.js';

/** About 6 KB of JSON: compressible, over the 1024-byte default minimum. */
const JSON_BODY = Buffer.from(JSON.stringify({ items: Array.from({ length: 120 }, (_, i) => ({ id: i, name: `item number ${i}`, tags: ['alpha', 'beta'] })) }));
const HTML_PART = Buffer.from(`<p>${'streamed html paragraph '.repeat(40)}</p>\n`);

/** The test origin: one handler served over plain HTTP/1.1 and over TLS with h2 (+ http/1.1). */
class TestOrigin {
  readonly sockets = new Set<Socket>();
  /** Streams held open until the test lets them finish. */
  readonly held = new Set<() => void>();
  server!: http.Server | http2.Http2SecureServer;
  port = 0;

  async start(tls: boolean): Promise<this> {
    const handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => this.handle(req, res);
    this.server = tls
      ? http2.createSecureServer({ allowHTTP1: true, key: originCerts.valid.key, cert: originCerts.valid.cert }, handler)
      : http.createServer(handler);
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    this.server.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => this.server.once('listening', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Let every held stream finish. */
  release(): void {
    for (const r of this.held) r();
    this.held.clear();
  }

  async close(): Promise<void> {
    this.release();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage | http2.Http2ServerRequest, compat: http.ServerResponse | http2.Http2ServerResponse): void {
    // The HTTP/2 compatibility response has the same writeHead/write/end as HTTP/1's.
    const res = compat as http.ServerResponse;
    const path = (req.url ?? '/').split('?')[0];
    const json = (extra: Record<string, string> = {}, status = 200) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(JSON_BODY.length), ...extra });
      if (req.method === 'HEAD') res.end();
      else res.end(JSON_BODY);
    };
    switch (path) {
      case '/json':
        return json({ etag: '"v1"', vary: 'Origin' });
      case '/json-vary-ae':
        return json({ vary: 'accept-encoding' });
      case '/json-vary-star':
        return json({ vary: '*' });
      case '/no-transform':
        return json({ 'cache-control': 'public, no-transform' });
      case '/small':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '11' });
        return void res.end('small body\n');
      case '/png':
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(JSON_BODY.length) });
        return void res.end(JSON_BODY);
      case '/gzipped': {
        const gz = gzipSync(JSON_BODY);
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(gz.length) });
        return void res.end(gz);
      }
      case '/range':
        res.writeHead(206, { 'content-type': 'application/json', 'content-range': `bytes 0-1999/${JSON_BODY.length}`, 'content-length': '2000' });
        return void res.end(JSON_BODY.subarray(0, 2000));
      case '/etag':
        if (req.headers['if-none-match'] === '"v1"') {
          res.writeHead(304, { etag: '"v1"' });
          return void res.end();
        }
        return json({ etag: '"v1"' });
      case '/html-stream': {
        // No length: the size is unknown, so it is compressed whatever it turns out to be.
        res.writeHead(200, { 'content-type': 'text/html' });
        for (let i = 0; i < 5; i++) res.write(HTML_PART);
        return void res.end();
      }
      case '/ndjson-held':
        // One line, then nothing until the test releases it: the client must see the line now.
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write('{"event":"first"}\n');
        this.held.add(() => res.end('{"event":"last"}\n'));
        return;
      case '/sse':
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write(`data: ${'x'.repeat(2000)}\n\n`);
        this.held.add(() => res.end('data: bye\n\n'));
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
    }
  }
}

const TIMEOUT = 20_000;

describe('response compression', () => {
  const origins: TestOrigin[] = [];
  afterEach(async () => {
    await stopAllProxies();
    await Promise.all(origins.splice(0).map((o) => o.close()));
  });

  async function origin(tls = false): Promise<TestOrigin> {
    const o = await new TestOrigin().start(tls);
    origins.push(o);
    return o;
  }

  async function setup(opts: { tls?: boolean; enabled?: boolean } = {}): Promise<{ proxy: TestProxy; base: string }> {
    const o = await origin(opts.tls ?? false);
    // The flag turns it on; the config file sets the rest (its `enabled` stays unset here).
    const proxy = await startProxy({ flags: opts.enabled === false ? {} : { compress: true }, config: { compression: { minBytes: 1024 } } });
    return { proxy, base: opts.tls ? `https://localhost:${o.port}` : `http://127.0.0.1:${o.port}` };
  }

  function get(proxy: TestProxy, url: string, opts: CurlRequestOptions = {}): Promise<CurlResponse> {
    const tls = url.startsWith('https:');
    return curlRequest(url, { proxy: proxy.url, ...(tls ? { cacert: fixtureCaPaths.cert } : {}), timeoutMs: 10_000, ...opts });
  }

  function expectOk(r: CurlResponse): void {
    expect(r.exitCode, r.stderr).toBe(0);
  }

  it('curl --compressed gets a br body it can decode; length gone, Vary merged, ETag weak; the flow keeps the origin bytes', { timeout: TIMEOUT }, async () => {
    const { proxy, base } = await setup();
    const r = await get(proxy, `${base}/json`, { extra: ['--compressed'] });
    expectOk(r);
    expect(r.status).toBe(200);
    expect(r.body.equals(JSON_BODY)).toBe(true);
    expect(header(r.headers, 'content-encoding')).toBe('br');
    expect(header(r.headers, 'content-length')).toBeUndefined();
    expect(header(r.headers, 'transfer-encoding')).toBe('chunked');
    expect(r.headers.filter(([k]) => k.toLowerCase() === 'vary').map(([, v]) => v)).toEqual(['Origin, Accept-Encoding']);
    expect(header(r.headers, 'etag')).toBe('W/"v1"');

    const flow = await proxy.waitForFlow((f) => f.request.path === '/json');
    expect(flow.tags).toContain('compressed:br');
    expect(flow.response!.body.bytes!.equals(JSON_BODY)).toBe(true);
    expect(header(flow.response!.headers, 'content-encoding')).toBeUndefined();
    expect(header(flow.response!.headers, 'content-length')).toBe(String(JSON_BODY.length));
  });

  it('sends real gzip and br bytes to a client that does not decode, by its q-values', { timeout: TIMEOUT }, async () => {
    const { proxy, base } = await setup();
    const gz = await get(proxy, `${base}/json-vary-ae`, { headers: { 'Accept-Encoding': 'gzip' } });
    expectOk(gz);
    expect(header(gz.headers, 'content-encoding')).toBe('gzip');
    expect(gz.body.subarray(0, 2).toString('hex')).toBe('1f8b');
    expect(gunzipSync(gz.body).equals(JSON_BODY)).toBe(true);
    expect(gz.body.length).toBeLessThan(JSON_BODY.length);
    // The origin's own Vary already names Accept-Encoding: not added twice.
    expect(gz.headers.filter(([k]) => k.toLowerCase() === 'vary').map(([, v]) => v)).toEqual(['accept-encoding']);

    const preferGzip = await get(proxy, `${base}/json`, { headers: { 'Accept-Encoding': 'br;q=0.5, gzip' } });
    expect(header(preferGzip.headers, 'content-encoding')).toBe('gzip');
    expect(gunzipSync(preferGzip.body).equals(JSON_BODY)).toBe(true);

    const br = await get(proxy, `${base}/json`, { headers: { 'Accept-Encoding': 'gzip, br' } });
    expect(header(br.headers, 'content-encoding')).toBe('br');
    expect(brotliDecompressSync(br.body).equals(JSON_BODY)).toBe(true);

    // Vary: * stays alone.
    const star = await get(proxy, `${base}/json-vary-star`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(header(star.headers, 'content-encoding')).toBe('gzip');
    expect(star.headers.filter(([k]) => k.toLowerCase() === 'vary').map(([, v]) => v)).toEqual(['*']);

    // A body of unknown length is compressed too (the size cannot be checked first).
    const html = await get(proxy, `${base}/html-stream`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(header(html.headers, 'content-encoding')).toBe('gzip');
    expect(gunzipSync(html.body).toString()).toBe(HTML_PART.toString().repeat(5));

    const flows = await proxy.waitForFlows(5);
    expect(flows.filter((f) => f.tags.includes('compressed:gzip'))).toHaveLength(4);
    expect(flows.filter((f) => f.tags.includes('compressed:br'))).toHaveLength(1);
  });

  it('compresses through HTTPS interception with h2 on both sides', { timeout: TIMEOUT }, async () => {
    const { proxy, base } = await setup({ tls: true });
    const decoded = await get(proxy, `${base}/json`, { http: '2', extra: ['--compressed'] });
    expectOk(decoded);
    expect(decoded.httpVersion).toBe('2');
    expect(decoded.body.equals(JSON_BODY)).toBe(true);
    expect(header(decoded.headers, 'content-encoding')).toBe('br');
    expect(header(decoded.headers, 'content-length')).toBeUndefined();
    expect(header(decoded.headers, 'vary')).toBe('Origin, Accept-Encoding');

    const raw = await get(proxy, `${base}/json`, { http: '2', headers: { 'Accept-Encoding': 'gzip' } });
    expectOk(raw);
    expect(raw.httpVersion).toBe('2');
    expect(header(raw.headers, 'content-encoding')).toBe('gzip');
    expect(gunzipSync(raw.body).equals(JSON_BODY)).toBe(true);

    const flow = await proxy.waitForFlow((f) => f.request.scheme === 'https' && f.tags.includes('compressed:gzip'));
    expect(flow.server.alpn).toBe('h2');
    expect(flow.response!.body.bytes!.equals(JSON_BODY)).toBe(true);
  });

  it('gives identity to a client without Accept-Encoding, and Vary tells caches it depends on it', { timeout: TIMEOUT }, async () => {
    const { proxy, base } = await setup();
    const r = await get(proxy, `${base}/json`);
    expectOk(r);
    expect(r.body.equals(JSON_BODY)).toBe(true);
    expect(header(r.headers, 'content-encoding')).toBeUndefined();
    expect(header(r.headers, 'content-length')).toBe(String(JSON_BODY.length));
    expect(header(r.headers, 'etag')).toBe('"v1"');
    expect(header(r.headers, 'vary')).toBe('Origin, Accept-Encoding');
    const refuses = await get(proxy, `${base}/json`, { headers: { 'Accept-Encoding': 'gzip;q=0, br;q=0' } });
    expect(header(refuses.headers, 'content-encoding')).toBeUndefined();
    expect(refuses.body.equals(JSON_BODY)).toBe(true);
    const flows = await proxy.waitForFlows(2);
    expect(flows.every((f) => !f.tags.some((t) => t.startsWith('compressed:')))).toBe(true);
  });

  it.each([
    ['an already compressed body', '/gzipped', {}],
    ['a body under minBytes', '/small', {}],
    ['an image', '/png', {}],
    ['Cache-Control: no-transform', '/no-transform', {}],
    ['a 206 range', '/range', {}],
    ['a HEAD request', '/json', { method: 'HEAD' }],
  ] as const)('leaves %s untouched', { timeout: TIMEOUT }, async (_what, path, opts) => {
    const o = await origin(false);
    const proxy = await startProxy({ flags: { compress: true } });
    const url = `http://127.0.0.1:${o.port}${path}`;
    const direct = await curlRequest(url, { headers: { 'Accept-Encoding': 'gzip, br' }, ...opts });
    const r = await get(proxy, url, { headers: { 'Accept-Encoding': 'gzip, br' }, ...opts });
    expectOk(r);
    expect(r.status).toBe(direct.status);
    expect(header(r.headers, 'content-encoding')).toBe(header(direct.headers, 'content-encoding'));
    expect(header(r.headers, 'content-length')).toBe(header(direct.headers, 'content-length'));
    expect(header(r.headers, 'vary')).toBe(header(direct.headers, 'vary'));
    expect(header(r.headers, 'etag')).toBe(header(direct.headers, 'etag'));
    expect(r.body.equals(direct.body)).toBe(true);
    const flow = await proxy.waitForFlow((f) => f.request.path === path);
    expect(flow.tags.some((t) => t.startsWith('compressed:'))).toBe(false);
  });

  it('leaves a 304 untouched', { timeout: TIMEOUT }, async () => {
    const { proxy, base } = await setup();
    const r = await get(proxy, `${base}/etag`, { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': '"v1"' } });
    expectOk(r);
    expect(r.status).toBe(304);
    expect(header(r.headers, 'content-encoding')).toBeUndefined();
    expect(header(r.headers, 'etag')).toBe('"v1"');
    expect(r.body.length).toBe(0);
  });

  it('does nothing while compression is off (the default)', { timeout: TIMEOUT }, async () => {
    const { proxy, base } = await setup({ enabled: false });
    const r = await get(proxy, `${base}/json`, { headers: { 'Accept-Encoding': 'gzip, br' } });
    expectOk(r);
    expect(header(r.headers, 'content-encoding')).toBeUndefined();
    expect(header(r.headers, 'vary')).toBe('Origin');
    expect(r.body.equals(JSON_BODY)).toBe(true);
  });

  it('leaves server-sent events untouched and streaming', { timeout: TIMEOUT }, async () => {
    const { proxy, base } = await setup();
    const o = origins[0]!;
    const res = await proxiedGet(proxy, `${base}/sse`, 'gzip, br');
    expect(res.headers['content-encoding']).toBeUndefined();
    // The first event arrives while the origin still holds the stream open.
    const first = await readUntil(res, 'data: x');
    expect(first).toContain('data: x');
    o.release();
    const rest = await readToEnd(res);
    expect(first + rest).toBe(`data: ${'x'.repeat(2000)}\n\ndata: bye\n\n`);
    const flow = await proxy.waitForFlow((f) => f.request.path === '/sse');
    expect(flow.tags.some((t) => t.startsWith('compressed:'))).toBe(false);
  });

  it('flushes a compressed stream as it arrives, so a client sees each part before the origin ends', { timeout: TIMEOUT }, async () => {
    const { proxy, base } = await setup();
    const o = origins[0]!;
    const res = await proxiedGet(proxy, `${base}/ndjson-held`, 'gzip');
    expect(res.headers['content-encoding']).toBe('gzip');
    const gunzip = res.pipe(createGunzip());
    const first = await readUntil(gunzip, '\n');
    expect(first).toBe('{"event":"first"}\n');
    o.release();
    expect(await readToEnd(gunzip)).toBe('{"event":"last"}\n');
  });
});

/** GET `url` through the proxy with Node's http client (absolute-form), resolving on the head. */
function proxiedGet(proxy: TestProxy, url: string, acceptEncoding: string): Promise<http.IncomingMessage> {
  const target = new URL(url);
  if (target.protocol !== 'http:') throw new Error('proxiedGet speaks plain HTTP only');
  return withTimeout(
    new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: proxy.port, path: url, headers: { host: target.host, 'accept-encoding': acceptEncoding }, agent: false }, resolve);
      req.once('error', reject);
    }),
    5000,
    `response head for ${url}`,
  );
}

/** Read text from `stream` until it contains `marker` (bounded). */
function readUntil(stream: NodeJS.ReadableStream, marker: string): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      let text = '';
      const onData = (chunk: Buffer) => {
        text += chunk.toString('utf8');
        if (text.includes(marker)) {
          stream.off('data', onData);
          stream.pause();
          resolve(text);
        }
      };
      stream.on('data', onData);
      stream.once('error', reject);
    }),
    5000,
    `${JSON.stringify(marker)} from a stream the origin still holds open`,
  );
}

/** Read the rest of `stream` as text (bounded). */
function readToEnd(stream: NodeJS.ReadableStream): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      stream.once('end', () => resolve(text));
      stream.once('error', reject);
      stream.resume();
    }),
    5000,
    'the end of the stream',
  );
}
