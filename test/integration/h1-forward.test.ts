/**
 * HTTP/1.1 forwarding through the real proxy (issue 2): bodies both ways, chunked framing and
 * trailers, header order and case, hop-by-hop stripping, interim responses, bodiless responses,
 * connection handling and upstream keep-alive, and what the flow store records.
 */
import { randomBytes, createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { flowUrl } from '../../src/proxy/core/flow.js';
import { curl, curlRequest, header } from '../helpers/curl.js';
import { CHUNKED_PARTS, EARLY_HINTS_LINK, HEADERS_ROUTE_RESPONSE, startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { openRaw, type RawSocket } from '../helpers/raw-client.js';

const MiB = 1024 * 1024;

/** Hop-by-hop fields (RFC 9110 §7.6.1) plus those a test names in `Connection`. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

function pairsOf(raw: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

function endToEnd(pairs: Array<[string, string]>, alsoDrop: string[] = []): Array<[string, string]> {
  const drop = new Set([...HOP, ...alsoDrop.map((s) => s.toLowerCase())]);
  return pairs.filter(([k]) => !drop.has(k.toLowerCase()));
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

interface RawResponse {
  status: number;
  head: string;
  headers: Array<[string, string]>;
  body: Buffer;
}

/**
 * Read one HTTP/1.1 response from a raw socket: the head, then a body framed by Content-Length or
 * chunked encoding (none for HEAD, 1xx, 204 and 304, RFC 9112 §6.3).
 */
async function readResponse(raw: RawSocket, opts: { head?: boolean } = {}): Promise<RawResponse> {
  const head = await raw.readHead();
  const [statusLine, ...lines] = head.split('\r\n').filter((l) => l !== '');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
  const headers = lines.map((l): [string, string] => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]);
  let body: Buffer = Buffer.alloc(0);
  const len = header(headers, 'content-length');
  const bodiless = opts.head || status === 204 || status === 304 || (status >= 100 && status < 200);
  if (!bodiless) {
    if (/chunked/i.test(header(headers, 'transfer-encoding') ?? '')) body = await raw.readUntil(/(^|\r\n)0\r\n(?:[^\r\n]+\r\n)*\r\n/);
    else if (len !== undefined) body = await raw.readBytes(Number(len));
  }
  return { status, head, headers, body };
}

describe('HTTP/1.1 forwarding', () => {
  let origin: Origin;
  let proxy: TestProxy;
  const sockets: RawSocket[] = [];

  async function setup(): Promise<void> {
    origin = await startOrigin();
    proxy = await startProxy();
  }

  async function open(): Promise<RawSocket> {
    const raw = await openRaw(proxy.port);
    sockets.push(raw);
    return raw;
  }

  const target = (path: string) => `${origin.url}${path}`;
  const hostHeader = () => `127.0.0.1:${origin.port}`;

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await stopAllProxies();
    await origin?.close();
  });

  describe('bodies', () => {
    it.each(['GET', 'POST', 'PUT'])('%s with a 1 MiB random body comes back byte for byte (/echo)', async (method) => {
      await setup();
      const body = randomBytes(MiB);
      const res = await curlRequest(target('/echo'), { proxy: proxy.url, method, data: body, headers: [['Content-Type', 'application/x-test']] });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      expect(header(res.headers, 'x-echo-method')).toBe(method);
      expect(header(res.headers, 'x-echo-content-length')).toBe(String(MiB));
      expect(res.body.length).toBe(MiB);
      expect(res.body.equals(body)).toBe(true);
      const got = origin.requests.at(-1)!;
      expect(got.method).toBe(method);
      expect(got.bodySize).toBe(MiB);
      expect(got.bodySha256).toBe(sha256(body));
    });

    it.each(['POST', 'GET'])('a chunked %s upload arrives intact and still chunked', async (method) => {
      await setup();
      const body = randomBytes(300 * 1024 + 7);
      const res = await curlRequest(target('/echo'), { proxy: proxy.url, method, data: body, headers: [['Transfer-Encoding', 'chunked']] });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      expect(header(res.headers, 'x-echo-transfer-encoding')).toBe('chunked');
      expect(header(res.headers, 'x-echo-content-length')).toBe('');
      expect(res.body.equals(body)).toBe(true);
      const got = origin.requests.at(-1)!;
      expect(got.method).toBe(method);
      expect(got.bodySha256).toBe(sha256(body));
      expect(header(pairsOf(got.rawHeaders), 'transfer-encoding')).toBe('chunked');
      expect(header(pairsOf(got.rawHeaders), 'content-length')).toBeUndefined();
    });
  });

  describe('trailers', () => {
    it('relays response trailers (/chunked, curl --raw shows the trailer)', async () => {
      await setup();
      const res = await curlRequest(target('/chunked'), { proxy: proxy.url, extra: ['--raw'] });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      expect(header(res.headers, 'transfer-encoding')).toBe('chunked');
      const wire = res.body.toString('latin1');
      // The raw chunked body ends with the last-chunk, the trailer field and the final CRLF.
      expect(wire).toMatch(/\r\n0\r\nx-trailer: done\r\n\r\n$/i);
      for (const part of CHUNKED_PARTS) expect(wire).toContain(part);
      // Decoded by curl this time: the body and the trailer as a client library reports them.
      const decoded = await curlRequest(target('/chunked'), { proxy: proxy.url });
      expect(decoded.body.toString()).toBe(CHUNKED_PARTS.join(''));
      expect(decoded.trailers).toEqual([['x-trailer', 'done']]);
      const flow = (await proxy.waitForFlows(2)).at(-1)!;
      expect(flow.response?.trailers).toEqual([['x-trailer', 'done']]);
    });

    it('forwards request trailers to the origin', async () => {
      await setup();
      const raw = await open();
      await raw.write(
        `POST ${target('/echo')} HTTP/1.1\r\nHost: ${hostHeader()}\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n` +
          `5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc123\r\n\r\n`,
      );
      const res = await readResponse(raw);
      expect(res.status).toBe(200);
      expect(res.body.toString('latin1')).toContain('hello');
      const got = origin.requests.at(-1)!;
      expect(got.complete).toBe(true);
      expect(got.body.toString()).toBe('hello world');
      expect(got.trailers).toEqual(['X-Checksum', 'abc123']);
      const flow = (await proxy.waitForFlows(1))[0]!;
      expect(flow.request.trailers).toEqual([['X-Checksum', 'abc123']]);
    });
  });

  describe('headers', () => {
    it('keeps header order and case in both directions', async () => {
      await setup();
      const sent: Array<[string, string]> = [
        ['Host', hostHeader()],
        ['X-Zeta', 'z'],
        ['accept', '*/*'],
        ['X-MiXeD-CaSe', 'm'],
        ['x-lower', 'l'],
        ['X-Dup', 'one'],
        ['User-Agent', 'raw-test/1'],
        ['x-dup', 'two'],
      ];
      const raw = await open();
      await raw.write(`GET ${target('/headers')} HTTP/1.1\r\n${sent.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
      const res = await readResponse(raw);
      expect(res.status).toBe(200);
      // Request: exactly what the client sent, in order and case (Node may add Connection: hop-by-hop).
      const received = JSON.parse(res.body.toString()) as string[];
      expect(endToEnd(pairsOf(received))).toEqual(sent);
      expect(endToEnd(pairsOf(origin.requests.at(-1)!.rawHeaders))).toEqual(sent);
      // Response: the origin's raw order and case (Date is added by the origin's Node when absent).
      const shown = endToEnd(res.headers, ['date']);
      expect(shown).toEqual([...HEADERS_ROUTE_RESPONSE.map(([k, v]) => [k, v]), ['Content-Length', String(res.body.length)]]);
      expect(res.headers.filter(([k]) => k.toLowerCase() === 'date').length).toBeLessThanOrEqual(1);
    });

    it('never forwards hop-by-hop fields or Proxy-Authorization', async () => {
      await setup();
      const raw = await open();
      await raw.write(
        `GET ${target('/headers')} HTTP/1.1\r\nHost: ${hostHeader()}\r\n` +
          'Connection: keep-alive, X-Drop-Me, x-also-drop\r\n' +
          'Keep-Alive: timeout=5\r\n' +
          'Proxy-Connection: keep-alive\r\n' +
          'TE: trailers, deflate\r\n' +
          'Upgrade: h2c\r\n' +
          'X-Drop-Me: secret\r\n' +
          'X-Also-Drop: secret\r\n' +
          'Proxy-Authorization: Basic dXNlcjpwYXNz\r\n' +
          'X-Keep: kept\r\n\r\n',
      );
      const res = await readResponse(raw);
      expect(res.status).toBe(200);
      const names = pairsOf(origin.requests.at(-1)!.rawHeaders).map(([k]) => k.toLowerCase());
      for (const banned of ['keep-alive', 'proxy-connection', 'te', 'upgrade', 'x-drop-me', 'x-also-drop', 'proxy-authorization']) {
        expect(names, banned).not.toContain(banned);
      }
      // Node's client may add its own `Connection: keep-alive` towards the origin; never the client's.
      const conn = pairsOf(origin.requests.at(-1)!.rawHeaders).filter(([k]) => k.toLowerCase() === 'connection');
      for (const [, v] of conn) expect(v.toLowerCase()).not.toMatch(/x-drop-me|x-also-drop/);
      expect(names).toContain('x-keep');
    });

    it('forwards an h2c upgrade request as a plain request without Upgrade (not a WebSocket)', async () => {
      await setup();
      const raw = await open();
      await raw.write(
        `GET ${target('/hello')} HTTP/1.1\r\nHost: ${hostHeader()}\r\n` +
          'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
      );
      const res = await readResponse(raw);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('hello');
      const names = pairsOf(origin.requests.at(-1)!.rawHeaders).map(([k]) => k.toLowerCase());
      expect(names).not.toContain('upgrade');
      expect(names).not.toContain('http2-settings');
    });
  });

  describe('interim and bodiless responses', () => {
    it('relays Expect: 100-continue (the client sees 100, then 200)', async () => {
      await setup();
      const body = randomBytes(64 * 1024);
      const res = await curlRequest(target('/expect'), {
        proxy: proxy.url,
        method: 'POST',
        data: body,
        headers: [['Expect', '100-continue']],
        // Wait long for the 100 so that a body sent early (curl gives up waiting) would show.
        extra: ['--expect100-timeout', '5'],
      });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.interim.map((b) => b.status)).toEqual([100]);
      expect(res.status).toBe(200);
      expect(header(res.headers, 'x-expect-continue')).toBe('sent');
      expect(res.body.toString()).toBe(String(body.length));
      expect(origin.requests.at(-1)!.bodySha256).toBe(sha256(body));
    });

    it('answers HEAD with Content-Length and no body', async () => {
      await setup();
      const raw = await open();
      await raw.write(`HEAD ${target('/hello')} HTTP/1.1\r\nHost: ${hostHeader()}\r\n\r\n`);
      const head = await readResponse(raw, { head: true });
      expect(head.status).toBe(200);
      expect(header(head.headers, 'content-length')).toBe('5');
      // No body bytes may follow: the next response on the connection must start right away.
      await raw.write(`GET ${target('/hello')} HTTP/1.1\r\nHost: ${hostHeader()}\r\n\r\n`);
      const next = await readResponse(raw);
      expect(next.head.startsWith('HTTP/1.1 200')).toBe(true);
      expect(next.body.toString()).toBe('hello');
    });

    it.each([204, 304])('answers %i with no body', async (status) => {
      await setup();
      const raw = await open();
      await raw.write(`GET ${target(`/status/${status}`)} HTTP/1.1\r\nHost: ${hostHeader()}\r\n\r\n`);
      const res = await readResponse(raw);
      expect(res.status).toBe(status);
      expect(header(res.headers, 'transfer-encoding')).toBeUndefined();
      await raw.write(`GET ${target('/hello')} HTTP/1.1\r\nHost: ${hostHeader()}\r\n\r\n`);
      const next = await readResponse(raw);
      expect(next.head.startsWith('HTTP/1.1 200')).toBe(true);
      expect(next.body.toString()).toBe('hello');
      const flow = (await proxy.waitForFlows(1))[0]!;
      expect(flow.response?.status).toBe(status);
      expect(flow.response?.body.size).toBe(0);
    });

    it('relays 103 Early Hints before the final response', async () => {
      await setup();
      const res = await curlRequest(target('/early-hints'), { proxy: proxy.url });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.interim.map((b) => b.status)).toEqual([103]);
      expect(header(res.interim[0]!.headers, 'link')).toBe(EARLY_HINTS_LINK);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('after hints\n');
    });
  });

  describe('connections', () => {
    it('Connection: close from the origin: the response is complete and the upstream connection is not reused', async () => {
      await setup();
      const raw = await open();
      await raw.write(`GET ${target('/close')} HTTP/1.1\r\nHost: ${hostHeader()}\r\n\r\n`);
      const res = await readResponse(raw);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('closing\n');
      // The client's connection to the proxy is its own business: it still works...
      await raw.write(`GET ${target('/hello')} HTTP/1.1\r\nHost: ${hostHeader()}\r\n\r\n`);
      const next = await readResponse(raw);
      expect(next.body.toString()).toBe('hello');
      // ...while the upstream connection the origin closed was not reused.
      expect(origin.connections).toBe(2);
    });

    it('Connection: close from the client: the response is complete, then the proxy closes', async () => {
      await setup();
      const raw = await open();
      await raw.write(`GET ${target('/hello')} HTTP/1.1\r\nHost: ${hostHeader()}\r\nConnection: close\r\n\r\n`);
      const res = await readResponse(raw);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('hello');
      expect(header(res.headers, 'connection')?.toLowerCase()).toBe('close');
      const rest = await raw.readToEnd(3000);
      expect(rest.length).toBe(0);
      expect(raw.ended).toBe(true);
    });

    it('reuses one upstream connection for 20 sequential requests on one client connection', async () => {
      await setup();
      const raw = await open();
      for (let i = 0; i < 20; i++) {
        await raw.write(`GET ${target(`/hello?i=${i}`)} HTTP/1.1\r\nHost: ${hostHeader()}\r\n\r\n`);
        const res = await readResponse(raw);
        expect(res.status).toBe(200);
        expect(res.body.toString()).toBe('hello');
      }
      expect(origin.requests.length).toBe(20);
      expect(origin.connections).toBe(1);
    });

    it('pools upstream connections across client connections', async () => {
      await setup();
      // 4 curl processes (4 client connections), each fetching 5 URLs over its connection.
      for (let c = 0; c < 4; c++) {
        const urls = Array.from({ length: 5 }, (_, i) => target(`/hello?c=${c}&i=${i}`));
        const run = await curl(['--proxy', proxy.url, '-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null', '--write-out', '%{http_code}\n', ...urls]);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout.toString().trim().split('\n')).toEqual(['200', '200', '200', '200', '200']);
      }
      expect(origin.requests.length).toBe(20);
      expect(proxy.flows().length).toBe(20);
      const clientConnections = new Set(proxy.flows().map((f) => f.client.port));
      expect(clientConnections.size).toBe(4);
      expect(origin.connections).toBeLessThanOrEqual(2);
    });
  });

  it('records the flow: method, URL, status, headers, bodies, timings and phase', async () => {
    await setup();
    const body = Buffer.from('{"hello":"flow"}');
    const res = await curlRequest(target('/echo?q=1'), {
      proxy: proxy.url,
      method: 'POST',
      data: body,
      headers: [
        ['Content-Type', 'application/json'],
        ['X-Flow-Test', 'yes'],
      ],
    });
    expect(res.status).toBe(200);
    const [flow] = await proxy.waitForFlows(1);
    expect(flow).toBeDefined();
    const f = flow!;
    expect(f.kind).toBe('http');
    expect(f.phase).toBe('done');
    expect(f.error).toBeNull();
    expect(f.request.method).toBe('POST');
    expect(flowUrl(f.request)).toBe(target('/echo?q=1'));
    expect(f.request.httpVersion).toBe('1.1');
    expect(header(f.request.headers, 'X-Flow-Test')).toBe('yes');
    expect(f.request.headers.some(([k]) => k === 'X-Flow-Test')).toBe(true);
    expect(f.request.body.bytes?.equals(body)).toBe(true);
    expect(f.request.body.size).toBe(body.length);
    expect(f.request.body.truncated).toBe(false);
    expect(f.request.body.state).toBe('complete');
    expect(f.response?.status).toBe(200);
    expect(header(f.response!.headers, 'x-echo-method')).toBe('POST');
    expect(f.response?.body.bytes?.equals(body)).toBe(true);
    expect(f.response?.body.state).toBe('complete');
    expect(f.client.address).toBe('127.0.0.1');
    expect(f.server.address).toMatch(/127\.0\.0\.1$/);
    const t = f.timings;
    expect(t.start).toBeGreaterThan(Date.now() - 60_000);
    expect(t.firstByte).not.toBeNull();
    expect(t.responseEnd).not.toBeNull();
    expect(t.responseEnd!).toBeGreaterThanOrEqual(t.firstByte!);
    expect(t.firstByte!).toBeGreaterThanOrEqual(t.upstreamSent ?? 0);
  });
});
