/**
 * Map and rewrite rules through the real proxy (issue 6, point 6): map-remote (the request goes to
 * another origin), map-local (answers from a file or a directory, never from outside it), mock
 * (a fixed response, nothing upstream) and header/body rewrites on requests and responses.
 *
 * Clients: real curl through `-x` (HTTPS intercepted with the fixture CA trusted), raw sockets where
 * the exact request target matters (path traversal), Node's http2 client through a CONNECT tunnel.
 */
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema, type ConfigFile } from '../../src/config/schema.js';
import { curlRequest, header } from '../helpers/curl.js';
import { Disposer } from '../helpers/disposer.js';
import { openH2Tunnel, readH2Response } from '../helpers/h2-tunnel.js';
import { GZIP_PAYLOAD, startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { openRaw, rawRequest } from '../helpers/raw-client.js';
import { fixtureCaPaths } from '../helpers/test-ca.js';
import { withTimeout } from '../helpers/wait.js';

const proxyCaPem = readFileSync(fixtureCaPaths.cert, 'utf8');

/** A config as `--config` would give it (zod fills the defaults). */
function config(rules: unknown[]): ConfigFile {
  return configSchema.parse({ rules });
}

/** Header pairs from a raw `[k1, v1, k2, v2 …]` list. */
function pairsOf(raw: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/** Split a raw HTTP/1.1 response (Connection: close, Content-Length framed) into its parts. */
function parseRawResponse(bytes: Buffer): { status: number; head: string; body: Buffer } {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no response head in ${JSON.stringify(bytes.toString('latin1').slice(0, 200))}`);
  const head = bytes.subarray(0, end).toString('latin1');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, head, body: bytes.subarray(end + 4) };
}

describe('rules: map, mock and rewrite through the proxy', () => {
  const origins: Origin[] = [];
  const servers: http.Server[] = [];
  const dirs: string[] = [];
  const open = new Disposer();

  async function origin(opts: Parameters<typeof startOrigin>[0] = {}): Promise<Origin> {
    const o = await startOrigin(opts);
    origins.push(o);
    return o;
  }

  async function tempDir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'proxyctl-rules-mapping-'));
    dirs.push(d);
    return d;
  }

  interface FixedOrigin {
    url: string;
    port: number;
    /** Requests as received: raw headers and body. */
    requests: Array<{ url: string; rawHeaders: string[]; body: Buffer }>;
  }

  /**
   * An origin that answers every request with `headers` (raw pairs, in this order and case) and
   * `body`, for the response rewrite tests (the shared origin sends no X-Powered-By).
   */
  async function fixedOrigin(headers: Array<[string, string]>, body: Buffer | string): Promise<FixedOrigin> {
    const requests: FixedOrigin['requests'] = [];
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests.push({ url: req.url ?? '', rawHeaders: [...req.rawHeaders], body: Buffer.concat(chunks) });
        res.writeHead(200, [...headers.flat(), 'Content-Length', String(bytes.length)]);
        res.end(bytes);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    const port = (server.address() as AddressInfo).port;
    return { url: `http://127.0.0.1:${port}`, port, requests };
  }

  afterEach(async () => {
    await open.run();
    await stopAllProxies();
    await Promise.all(origins.splice(0).map((o) => o.close()));
    await Promise.all(
      servers.splice(0).map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            // close() alone would wait for kept-alive connections.
            s.closeAllConnections();
          }),
      ),
    );
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  // --- map-remote -----------------------------------------------------------------------------

  describe('map-remote', () => {
    it('sends a plain-HTTP request for host A to origin B, with B in Host and the old URL kept on the flow', async () => {
      const b = await origin();
      const proxy = await startProxy({ config: config([{ type: 'map-remote', filter: '~d ^api\\.example$', to: b.url }]) });
      const res = await curlRequest('http://api.example/hello?x=1', { proxy: proxy.url });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('hello');

      expect(b.requests).toHaveLength(1);
      const seen = b.requests[0]!;
      expect(seen.url).toBe('/hello?x=1');
      expect(pairsOf(seen.rawHeaders).filter(([k]) => k.toLowerCase() === 'host')).toEqual([['Host', `127.0.0.1:${b.port}`]]);

      const flow = await proxy.waitForFlow((f) => f.kind === 'http');
      expect(flow.error).toBeNull();
      expect(flow.tags).toContain('map-remote');
      expect(flow.request).toMatchObject({ scheme: 'http', host: '127.0.0.1', port: b.port, path: '/hello?x=1' });
      expect(flow.original?.request).toMatchObject({ scheme: 'http', host: 'api.example', port: 80, path: '/hello?x=1' });
      expect(flow.original?.request?.headers.find(([k]) => k.toLowerCase() === 'host')?.[1]).toBe('api.example');
      expect(flow.server).toMatchObject({ host: '127.0.0.1', port: b.port });
    });

    it('maps an intercepted HTTPS request to a plain-HTTP origin', async () => {
      const b = await origin();
      const proxy = await startProxy({ config: config([{ type: 'map-remote', filter: '~d secure\\.example', to: b.url }]) });
      const res = await curlRequest('https://secure.example/hello', { proxy: proxy.url, cacert: fixtureCaPaths.cert });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('hello');
      expect(res.interim.map((h) => h.status)).toEqual([200]); // the CONNECT answer

      expect(b.requests).toHaveLength(1);
      expect(b.requests[0]!.url).toBe('/hello');
      expect(pairsOf(b.requests[0]!.rawHeaders).find(([k]) => k.toLowerCase() === 'host')?.[1]).toBe(`127.0.0.1:${b.port}`);

      const flow = await proxy.waitForFlow((f) => f.kind === 'http');
      expect(flow.tags).toContain('map-remote');
      expect(flow.request).toMatchObject({ scheme: 'http', host: '127.0.0.1', port: b.port, path: '/hello' });
      expect(flow.original?.request).toMatchObject({ scheme: 'https', host: 'secure.example', port: 443, path: '/hello' });
      expect(flow.client.sni).toBe('secure.example');
    });

    it('maps a plain-HTTP request to an HTTPS origin (upstream certificate verified)', async () => {
      const b = await origin({ tls: 'valid' });
      const proxy = await startProxy({ config: config([{ type: 'map-remote', filter: '~d ^plain\\.example$', to: b.url }]) });
      const res = await curlRequest('http://plain.example/hello', { proxy: proxy.url });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('hello');
      expect(pairsOf(b.requests[0]!.rawHeaders).find(([k]) => k.toLowerCase() === 'host')?.[1]).toBe(`localhost:${b.port}`);
      const flow = await proxy.waitForFlow((f) => f.kind === 'http');
      expect(flow.request).toMatchObject({ scheme: 'https', host: 'localhost', port: b.port });
      expect(flow.server.tlsVersion).toMatch(/^TLSv1\.[23]$/);
    });

    it('maps a request made over HTTP/2 in an intercepted tunnel to an HTTP/1.1 origin', async () => {
      const a = await origin({ http2: true });
      const b = await origin();
      const proxy = await startProxy({ config: config([{ type: 'map-remote', filter: '~u /from-h2$', to: `${b.url}/headers` }]) });
      const session = await openH2Tunnel(proxy.port, a.port, proxyCaPem, (raw) => open.destroy(raw));
      open.destroy(session);
      const stream = session.request({ ':method': 'GET', ':path': '/from-h2' }, { endStream: true });
      const result = await readH2Response(stream, 5000, 'the mapped HTTP/2 response');
      expect(result.status).toBe(200);
      expect(a.requests).toHaveLength(0);
      expect(b.requests).toHaveLength(1);
      expect(b.requests[0]!.httpVersion).toBe('1.1');
      expect(pairsOf(b.requests[0]!.rawHeaders).filter(([k]) => k.toLowerCase() === 'host').map(([, v]) => v)).toEqual([`127.0.0.1:${b.port}`]);
      const flow = await proxy.waitForFlow((f) => f.kind === 'http');
      expect(flow.original?.request).toMatchObject({ scheme: 'https', host: 'localhost', port: a.port, path: '/from-h2', httpVersion: '2' });
      expect(flow.request).toMatchObject({ scheme: 'http', host: '127.0.0.1', port: b.port, path: '/headers' });
    });

    it('replaces the path when `to` has one, keeping the query; a query in `to` replaces the query', async () => {
      const b = await origin();
      const proxy = await startProxy({
        config: config([
          { type: 'map-remote', filter: '~u ^/old/', to: `${b.url}/hello` },
          { type: 'map-remote', filter: '~u ^/q/', to: `${b.url}/status/201?from=rule` },
        ]),
      });
      const one = await curlRequest('http://legacy.example/old/page?keep=1', { proxy: proxy.url });
      expect(one.status).toBe(200);
      expect(one.body.toString()).toBe('hello');
      const two = await curlRequest('http://legacy.example/q/page?drop=1', { proxy: proxy.url });
      expect(two.status).toBe(201);
      expect(b.requests.map((r) => r.url)).toEqual(['/hello?keep=1', '/status/201?from=rule']);

      const flows = await proxy.waitForFlows(2);
      expect(flows.map((f) => [f.original?.request?.path, f.request.path])).toEqual([
        ['/old/page?keep=1', '/hello?keep=1'],
        ['/q/page?drop=1', '/status/201?from=rule'],
      ]);
    });

    it('leaves requests the filter does not match alone', async () => {
      const a = await origin();
      const b = await origin();
      const proxy = await startProxy({ config: config([{ type: 'map-remote', filter: '~d ^api\\.example$', to: b.url }]) });
      const res = await curlRequest(`${a.url}/hello`, { proxy: proxy.url });
      expect(res.status).toBe(200);
      expect(a.requests).toHaveLength(1);
      expect(b.requests).toHaveLength(0);
      const flow = await proxy.waitForFlow((f) => f.kind === 'http');
      expect(flow.tags).not.toContain('map-remote');
      expect(flow.original ?? null).toBeNull();
    });
  });

  // --- map-local ------------------------------------------------------------------------------

  describe('map-local', () => {
    /** A site directory and, beside it, a secret the rule must never serve. */
    async function site(): Promise<{ root: string; secret: string }> {
      const base = await tempDir();
      const root = join(base, 'site');
      await mkdir(join(root, 'sub'), { recursive: true });
      await writeFile(join(root, 'index.html'), '<h1>home</h1>\n');
      await writeFile(join(root, 'app.js'), 'console.log("local");\n');
      await writeFile(join(root, 'data.json'), '{"local":true}\n');
      await writeFile(join(root, 'sub', 'style.css'), 'body{color:red}\n');
      await writeFile(join(root, 'sub', 'index.html'), '<h1>sub</h1>\n');
      await writeFile(join(root, 'blob.bin'), Buffer.from([0, 1, 2, 255]));
      await writeFile(join(root, 'with space.txt'), 'spaced\n');
      const secret = join(base, 'secret.txt');
      await writeFile(secret, 'TOP-SECRET-CONTENT\n');
      return { root, secret };
    }

    it('serves files from a directory with the right Content-Type, Content-Length and body', async () => {
      const { root } = await site();
      const o = await origin();
      const proxy = await startProxy({ config: config([{ type: 'map-local', filter: '~d ^local\\.example$', path: root }]) });
      const cases: Array<[string, string, string]> = [
        ['/app.js', 'text/javascript; charset=utf-8', 'console.log("local");\n'],
        ['/data.json?ignored=query', 'application/json; charset=utf-8', '{"local":true}\n'],
        ['/sub/style.css', 'text/css; charset=utf-8', 'body{color:red}\n'],
        ['/with%20space.txt', 'text/plain; charset=utf-8', 'spaced\n'],
      ];
      for (const [path, type, body] of cases) {
        const res = await curlRequest(`http://local.example${path}`, { proxy: proxy.url });
        expect(res.exitCode, res.stderr).toBe(0);
        expect(res.status, path).toBe(200);
        expect(header(res.headers, 'content-type'), path).toBe(type);
        expect(header(res.headers, 'content-length'), path).toBe(String(Buffer.byteLength(body)));
        expect(header(res.headers, 'last-modified'), path).toMatch(/GMT$/);
        expect(res.body.toString(), path).toBe(body);
      }
      const bin = await curlRequest('http://local.example/blob.bin', { proxy: proxy.url });
      expect(header(bin.headers, 'content-type')).toBe('application/octet-stream');
      expect([...bin.body]).toEqual([0, 1, 2, 255]);

      const flows = await proxy.waitForFlows(cases.length + 1);
      for (const f of flows) {
        expect(f.tags).toContain('map-local');
        expect(f.response?.status).toBe(200);
        expect(f.response?.body.size).toBeGreaterThan(0);
      }
      expect(o.requests).toHaveLength(0);
    });

    it('records the body it served on the flow, whole, once the client has it', async () => {
      // A user opening the flow must see the file that was sent. curl closes its connection as
      // soon as Content-Length bytes arrived, which can be before the file stream's own end.
      const { root } = await site();
      const proxy = await startProxy({ config: config([{ type: 'map-local', filter: '~d ^local\\.example$', path: root }]) });
      const rounds = 12;
      for (let i = 0; i < rounds; i++) {
        const res = await curlRequest('http://local.example/app.js', { proxy: proxy.url });
        expect(res.body.toString()).toBe('console.log("local");\n');
      }
      const flows = await proxy.waitForFlows(rounds);
      const seen = flows.map((f) => `${f.phase} ${f.response?.body.state} ${JSON.stringify(f.response?.body.bytes?.toString() ?? null)}`);
      expect(seen).toEqual(Array.from({ length: rounds }, () => `done complete ${JSON.stringify('console.log("local");\n')}`));
    });

    it('answers / and a directory with its index.html', async () => {
      const { root } = await site();
      const proxy = await startProxy({ config: config([{ type: 'map-local', filter: '~d ^local\\.example$', path: root }]) });
      const home = await curlRequest('http://local.example/', { proxy: proxy.url });
      expect(home.status).toBe(200);
      expect(header(home.headers, 'content-type')).toBe('text/html; charset=utf-8');
      expect(home.body.toString()).toBe('<h1>home</h1>\n');
      const sub = await curlRequest('http://local.example/sub/', { proxy: proxy.url });
      expect(sub.status).toBe(200);
      expect(sub.body.toString()).toBe('<h1>sub</h1>\n');
    });

    it('answers 404 with a page naming the missing path', async () => {
      const { root } = await site();
      const proxy = await startProxy({ config: config([{ type: 'map-local', filter: '~d ^local\\.example$', path: root }]) });
      const res = await curlRequest('http://local.example/nope/missing.txt', { proxy: proxy.url });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(404);
      expect(header(res.headers, 'content-type')).toBe('text/plain; charset=utf-8');
      expect(res.body.toString()).toContain('/nope/missing.txt');
      expect(res.body.toString()).toContain('no such file');
      const flow = await proxy.waitForFlow((f) => f.kind === 'http');
      expect(flow.response?.status).toBe(404);
      expect(flow.tags).toContain('map-local');
    });

    it('never serves a file outside the root: .. segments, encoded dots and separators, symlinks', async () => {
      const { root, secret } = await site();
      await symlink(secret, join(root, 'link.txt'));
      const proxy = await startProxy({ config: config([{ type: 'map-local', filter: '~d ^local\\.example$', path: root }]) });
      const targets = [
        '/../secret.txt',
        '/sub/../../secret.txt',
        '/%2e%2e/secret.txt',
        '/sub/%2E%2E/%2e%2e/secret.txt',
        '/..%2fsecret.txt',
        '/sub%2f..%2f..%2fsecret.txt',
        '/..%5csecret.txt',
        '/link.txt',
      ];
      for (const target of targets) {
        // Raw bytes: curl and Node would normalise the dots away before sending.
        const raw = await rawRequest(proxy.port, `GET http://local.example${target} HTTP/1.1\r\nHost: local.example\r\nConnection: close\r\n\r\n`);
        const res = parseRawResponse(raw);
        expect([403, 404], `${target}: ${res.head}`).toContain(res.status);
        expect(raw.toString('latin1'), target).not.toContain('TOP-SECRET');
      }
      // curl with --path-as-is, as a user would try it.
      const viaCurl = await curlRequest('http://local.example/../secret.txt', { proxy: proxy.url, extra: ['--path-as-is'] });
      expect([403, 404]).toContain(viaCurl.status);
      expect(viaCurl.body.toString()).not.toContain('TOP-SECRET');

      const flows = await proxy.waitForFlows(targets.length + 1);
      for (const f of flows) {
        expect([403, 404]).toContain(f.response?.status);
        expect(f.response?.body.bytes?.toString() ?? '').not.toContain('TOP-SECRET');
      }
      // The symlink is refused as such, not merely missing.
      const link = flows.find((f) => f.request.path === '/link.txt')!;
      expect(link.response?.status).toBe(403);
      expect(link.response?.body.bytes?.toString()).toContain('outside');
    });

    it('serves a single-file root for every path', async () => {
      const dir = await tempDir();
      const file = join(dir, 'fixed.json');
      await writeFile(file, '{"fixed":1}');
      const proxy = await startProxy({ config: config([{ type: 'map-local', filter: '~u ^/api/', path: file }]) });
      for (const path of ['/api/users', '/api/a/b/c?x=1', '/api/']) {
        const res = await curlRequest(`http://any.example${path}`, { proxy: proxy.url });
        expect(res.status, path).toBe(200);
        expect(header(res.headers, 'content-type'), path).toBe('application/json; charset=utf-8');
        expect(res.body.toString(), path).toBe('{"fixed":1}');
      }
    });

    it('answers HEAD with the headers of GET and no body', async () => {
      const { root } = await site();
      const proxy = await startProxy({ config: config([{ type: 'map-local', filter: '~d ^local\\.example$', path: root }]) });
      const res = await curlRequest('http://local.example/app.js', { proxy: proxy.url, method: 'HEAD' });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      expect(header(res.headers, 'content-length')).toBe(String(Buffer.byteLength('console.log("local");\n')));
      expect(header(res.headers, 'content-type')).toBe('text/javascript; charset=utf-8');
      // Raw, to see that no body bytes follow the head on a kept-alive connection.
      const raw = await rawRequest(proxy.port, 'HEAD http://local.example/app.js HTTP/1.1\r\nHost: local.example\r\nConnection: close\r\n\r\n');
      const parsed = parseRawResponse(raw);
      expect(parsed.status).toBe(200);
      expect(parsed.body.length).toBe(0);
      const flows = await proxy.waitForFlows(2);
      expect(flows.every((f) => f.request.method === 'HEAD' && f.response?.status === 200)).toBe(true);
    });

    it('resolves a relative path against the config file folder, not the working directory', async () => {
      const { root } = await site();
      const base = join(root, '..');
      const configPath = join(base, 'proxyctl.json');
      const rules = [{ type: 'map-local', filter: '~d ^local\\.example$', path: './site' }];
      await writeFile(configPath, JSON.stringify({ rules }));
      expect(process.cwd()).not.toBe(base);
      const proxy = await startProxy({ config: config(rules), configPath });
      const res = await curlRequest('http://local.example/data.json', { proxy: proxy.url });
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('{"local":true}\n');
      // Without a config path the same relative path is looked up under the working directory.
      const cwdProxy = await startProxy({ config: config([{ type: 'map-local', filter: '~d ^local\\.example$', path: './proxyctl-no-such-site-dir' }]) });
      const missing = await curlRequest('http://local.example/data.json', { proxy: cwdProxy.url });
      expect(missing.status).toBe(404);
      expect(missing.body.toString()).toContain(join(process.cwd(), 'proxyctl-no-such-site-dir'));
    });
  });

  // --- mock -----------------------------------------------------------------------------------

  describe('mock', () => {
    it('answers with exactly the status, headers and body of the rule; nothing reaches the origin', async () => {
      const o = await origin();
      const body = '{"mocked":true,"émoji":"✓"}';
      const proxy = await startProxy({
        config: config([
          {
            type: 'mock',
            filter: '~u /api/health$',
            status: 418,
            headers: { 'Content-Type': 'application/json', 'X-Mock': 'yes', 'Content-Length': '1' },
            body,
          },
        ]),
      });
      const res = await curlRequest(`${o.url}/api/health`, { proxy: proxy.url });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(418);
      expect(header(res.headers, 'content-type')).toBe('application/json');
      expect(header(res.headers, 'x-mock')).toBe('yes');
      // The rule's wrong Content-Length is replaced by the real one.
      expect(res.headers.filter(([k]) => k.toLowerCase() === 'content-length')).toEqual([['Content-Length', String(Buffer.byteLength(body))]]);
      expect(res.body.toString('utf8')).toBe(body);
      expect(o.requests).toHaveLength(0);
      expect(o.connections).toBe(0);

      // A POST with a body is answered too, and its body is still recorded on the flow.
      const post = await curlRequest(`${o.url}/api/health`, { proxy: proxy.url, data: 'ping' });
      expect(post.status).toBe(418);
      expect(o.requests).toHaveLength(0);

      const flows = await proxy.waitForFlows(2);
      for (const f of flows) {
        expect(f.tags).toContain('mocked');
        expect(f.response?.status).toBe(418);
        expect(f.response?.body.bytes?.toString('utf8')).toBe(body);
        expect(f.error).toBeNull();
      }
      expect(flows[1]!.request.body.bytes?.toString()).toBe('ping');
    });

    it('defaults to text/plain and sends no body for 204', async () => {
      const proxy = await startProxy({
        config: config([
          { type: 'mock', filter: '~u /text$', body: 'plain' },
          { type: 'mock', filter: '~u /empty$', status: 204, body: 'ignored' },
        ]),
      });
      const text = await curlRequest('http://mock.example/text', { proxy: proxy.url });
      expect(text.status).toBe(200);
      expect(header(text.headers, 'content-type')).toBe('text/plain; charset=utf-8');
      expect(text.body.toString()).toBe('plain');
      const empty = await curlRequest('http://mock.example/empty', { proxy: proxy.url });
      expect(empty.exitCode, empty.stderr).toBe(0);
      expect(empty.status).toBe(204);
      expect(empty.body.length).toBe(0);
    });

    it('mocks over HTTP/2 inside an intercepted tunnel', async () => {
      const o = await origin({ http2: true });
      const proxy: TestProxy = await startProxy({
        config: config([{ type: 'mock', filter: '~u /mocked', status: 201, headers: { 'X-Mock': 'h2', 'Content-Type': 'text/csv' }, body: 'a,b\n1,2\n' }]),
      });
      const session = await openH2Tunnel(proxy.port, o.port, proxyCaPem, (raw) => open.destroy(raw));
      open.destroy(session);
      const stream = session.request({ ':method': 'GET', ':path': '/mocked' }, { endStream: true });
      const result = await withTimeout(
        new Promise<{ headers: http2.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
          let headers: http2.IncomingHttpHeaders = {};
          const chunks: Buffer[] = [];
          stream.on('response', (h) => (headers = h));
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => resolve({ headers, body: Buffer.concat(chunks) }));
          stream.on('error', reject);
        }),
        5000,
        'the mocked HTTP/2 response',
      );
      expect(result.headers[':status']).toBe(201);
      expect(result.headers['x-mock']).toBe('h2');
      expect(result.headers['content-type']).toBe('text/csv');
      expect(result.headers['content-length']).toBe('8');
      expect(result.body.toString()).toBe('a,b\n1,2\n');
      expect(o.requests).toHaveLength(0);
      const flow = await proxy.waitForFlow((f) => f.kind === 'http');
      expect(flow.request.httpVersion).toBe('2');
      expect(flow.tags).toContain('mocked');
      expect(flow.response?.status).toBe(201);
    });
  });

  // --- rewrite --------------------------------------------------------------------------------

  describe('rewrite', () => {
    it('removes, sets and edits response headers', async () => {
      const o = await fixedOrigin(
        [
          ['Content-Type', 'text/plain'],
          ['X-Powered-By', 'Express'],
          ['Server', 'origin/1.0'],
          ['Cache-Control', 'max-age=3600, public'],
          ['X-Keep', 'kept'],
        ],
        'body',
      );
      const proxy = await startProxy({
        config: config([
          { type: 'rewrite', filter: '~s', part: 'response-header', match: '^x-powered-by$', replace: null },
          { type: 'rewrite', filter: '~s', part: 'response-header', match: '^server$', replace: 'proxyctl-test' },
          { type: 'rewrite', filter: '~s', part: 'response-header', match: '^cache-control$', value: 'max-age=\\d+', replace: 'max-age=0' },
        ]),
      });
      const res = await curlRequest(`${o.url}/page`, { proxy: proxy.url });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      expect(header(res.headers, 'x-powered-by')).toBeUndefined();
      expect(header(res.headers, 'server')).toBe('proxyctl-test');
      expect(header(res.headers, 'cache-control')).toBe('max-age=0, public');
      expect(header(res.headers, 'x-keep')).toBe('kept');
      expect(res.body.toString()).toBe('body');
      const flow = await proxy.waitForFlow((f) => f.kind === 'http');
      expect(flow.tags).toContain('rewritten');
      expect(flow.response?.headers.find(([k]) => k.toLowerCase() === 'x-powered-by')).toBeUndefined();
    });

    it('rewrites request headers before they reach the origin', async () => {
      const o = await origin();
      const proxy = await startProxy({
        config: config([
          { type: 'rewrite', filter: '~u /headers', part: 'request-header', match: '^user-agent$', replace: 'rewritten-agent' },
          { type: 'rewrite', filter: '~u /headers', part: 'request-header', match: '^x-token$', value: 'secret-\\d+', replace: 'redacted' },
          { type: 'rewrite', filter: '~u /headers', part: 'request-header', match: '^x-drop-me$', replace: null },
        ]),
      });
      const res = await curlRequest(`${o.url}/headers`, {
        proxy: proxy.url,
        headers: [
          ['User-Agent', 'curl-original'],
          ['X-Token', 'Bearer secret-12345 tail'],
          ['X-Drop-Me', 'gone'],
        ],
      });
      expect(res.status).toBe(200);
      const seen = pairsOf(o.requests[0]!.rawHeaders);
      const get = (name: string) => seen.filter(([k]) => k.toLowerCase() === name).map(([, v]) => v);
      expect(get('user-agent')).toEqual(['rewritten-agent']);
      expect(get('x-token')).toEqual(['Bearer redacted tail']);
      expect(get('x-drop-me')).toEqual([]);
      const flow = await proxy.waitForFlow((f) => f.kind === 'http');
      expect(flow.tags).toContain('rewritten');
    });

    it('rewrites a response body with a regex and fixes Content-Length', async () => {
      const o = await fixedOrigin([['Content-Type', 'text/plain; charset=utf-8']], 'hello world, hello proxy; Hello stays');
      const proxy = await startProxy({ config: config([{ type: 'rewrite', filter: '~s', part: 'response-body', match: 'hello (\\w+)', replace: 'bye [$1]' }]) });
      const res = await curlRequest(`${o.url}/text`, { proxy: proxy.url });
      expect(res.exitCode, res.stderr).toBe(0);
      const expected = 'bye [world], bye [proxy]; Hello stays';
      expect(res.body.toString()).toBe(expected);
      expect(header(res.headers, 'content-length')).toBe(String(Buffer.byteLength(expected)));
      const flow = await proxy.waitForFlow((f) => f.kind === 'http');
      expect(flow.tags).toContain('rewritten');
      expect(flow.response?.body.bytes?.toString()).toBe(expected);
    });

    it('decodes a gzip response, rewrites it and sends it without Content-Encoding, with the right length', async () => {
      const o = await origin();
      const proxy = await startProxy({ config: config([{ type: 'rewrite', filter: '~u /gzip', part: 'response-body', match: 'gzip-encoded', replace: 'rewritten' }]) });
      // No --compressed: curl shows the bytes exactly as the proxy sent them.
      const res = await curlRequest(`${o.url}/gzip`, { proxy: proxy.url });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      expect(header(res.headers, 'content-encoding')).toBeUndefined();
      const expected = JSON.stringify({ ...GZIP_PAYLOAD, message: GZIP_PAYLOAD.message.replace('gzip-encoded', 'rewritten') });
      expect(res.body.toString()).toBe(expected);
      expect(header(res.headers, 'content-length')).toBe(String(res.body.length));
      expect(header(res.headers, 'content-type')).toBe('application/json');
    });

    it('leaves the framing of a HEAD response alone under a response-body rewrite', async () => {
      // A HEAD response has no body to rewrite; its Content-Length describes the GET body, so
      // turning it into 0 tells the client something false (RFC 9110 §9.3.2).
      const o = await origin();
      const proxy = await startProxy({ config: config([{ type: 'rewrite', filter: '~s', part: 'response-body', match: 'hello', replace: 'HELLO!' }]) });
      const get = await curlRequest(`${o.url}/hello`, { proxy: proxy.url });
      expect(get.body.toString()).toBe('HELLO!');
      expect(header(get.headers, 'content-length')).toBe('6');
      const head = await curlRequest(`${o.url}/hello`, { proxy: proxy.url, method: 'HEAD' });
      expect(head.exitCode, head.stderr).toBe(0);
      expect(head.status).toBe(200);
      // The origin's own value (5) or none is honest; 0 is not.
      expect([undefined, '5']).toContain(header(head.headers, 'content-length'));
    });

    it('decodes gzip even when the rewrite matches nothing (the client gets identity bytes it can read)', async () => {
      const payload = 'nothing to see here';
      const o = await fixedOrigin(
        [
          ['Content-Type', 'text/plain'],
          ['Content-Encoding', 'gzip'],
        ],
        gzipSync(payload),
      );
      const proxy = await startProxy({ config: config([{ type: 'rewrite', filter: '~s', part: 'response-body', match: 'absent', replace: 'x' }]) });
      const res = await curlRequest(`${o.url}/g`, { proxy: proxy.url });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(header(res.headers, 'content-encoding')).toBeUndefined();
      expect(res.body.toString()).toBe(payload);
      expect(header(res.headers, 'content-length')).toBe(String(payload.length));
    });

    it('rewrites a request body; the origin gets it with a correct Content-Length', async () => {
      const o = await origin();
      const proxy = await startProxy({ config: config([{ type: 'rewrite', filter: '~m POST', part: 'request-body', match: 'password=[^&]*', replace: 'password=***' }]) });
      const sent = 'user=bob&password=hunter2&remember=1';
      const expected = 'user=bob&password=***&remember=1';
      const res = await curlRequest(`${o.url}/echo`, { proxy: proxy.url, data: sent, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.body.toString()).toBe(expected);
      const seen = o.requests[0]!;
      expect(seen.body.toString()).toBe(expected);
      expect(pairsOf(seen.rawHeaders).filter(([k]) => k.toLowerCase() === 'content-length').map(([, v]) => v)).toEqual([String(expected.length)]);

      // A chunked upload (no length given) is rewritten too, and sent with the new length.
      const chunked = await curlRequest(`${o.url}/echo`, { proxy: proxy.url, data: sent, headers: { 'Transfer-Encoding': 'chunked' } });
      expect(chunked.body.toString()).toBe(expected);
      expect(o.requests[1]!.body.toString()).toBe(expected);
      expect(o.requests[1]!.bodySize).toBe(expected.length);

      const flows = await proxy.waitForFlows(2);
      for (const f of flows) {
        expect(f.tags).toContain('rewritten');
        expect(f.request.body.bytes?.toString()).toBe(expected);
      }
    });

    it('answers Expect: 100-continue itself when it must hold the body to rewrite it', async () => {
      // The body is rewritten before anything goes upstream, so the origin's 100 cannot come first:
      // the proxy has to invite the body, or a waiting client stalls (curl: 1 s over 1 MiB).
      const o = await origin();
      const proxy = await startProxy({ config: config([{ type: 'rewrite', filter: '~m POST', part: 'request-body', match: 'secret', replace: 'XXXXXX' }]) });
      const raw = await openRaw(proxy.port);
      open.close(raw);
      await raw.write(`POST ${o.url}/echo HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\nContent-Length: 13\r\nExpect: 100-continue\r\n\r\n`);
      const interim = await raw.readUntil('\r\n\r\n', 3000).then(
        (b) => b.toString('latin1'),
        () => '(no answer within 3 s: a client waiting for 100 Continue stalls here)',
      );
      expect(interim).toMatch(/^HTTP\/1\.1 100 /);
      await raw.write('a secret here');
      const head = await raw.readHead();
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      expect((await raw.readBytes(13)).toString()).toBe('a XXXXXX here');
    });
  });
});
