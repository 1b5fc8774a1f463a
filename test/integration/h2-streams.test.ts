/**
 * HTTP/2 streams through the real proxy (issue 3): streams of one client connection are
 * independent (a slow one holds up nobody, one reset ends only itself), flow control works both
 * ways for large bodies, and the upstream session's failures (stream reset, GOAWAY, the origin
 * dropping the session) become flow errors without breaking the client connection.
 *
 * Client: Node's http2 client through a CONNECT tunnel (TLS with ALPN h2, trusting the proxy CA).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Flow } from '../../src/proxy/core/flow.js';
import { originBytesSha256, startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { fixtureCaPaths } from '../helpers/test-ca.js';
import { waitFor, withTimeout } from '../helpers/wait.js';
import { openH2Tunnel } from '../helpers/h2-tunnel.js';

const MiB = 1024 * 1024;
const proxyCaPem = readFileSync(fixtureCaPaths.cert, 'utf8');

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

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
  body: Buffer;
}

/** Collect one stream's response. Rejects on a stream error. */
function collect(stream: http2.ClientHttp2Stream, timeoutMs = 10_000): Promise<H2Result> {
  return withTimeout(
    new Promise<H2Result>((resolve, reject) => {
      let headers: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h) => (headers = h));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks) }));
      stream.on('error', reject);
    }),
    timeoutMs,
    'an HTTP/2 response through the proxy',
  );
}

function get(session: http2.ClientHttp2Session, path: string, timeoutMs?: number): Promise<H2Result> {
  return collect(session.request({ ':path': path }, { endStream: true }), timeoutMs);
}

/** The response's SHA-256 and size, without keeping the body. */
function hashStream(stream: http2.ClientHttp2Stream, timeoutMs: number): Promise<{ status: number; size: number; sha256: string }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const h = createHash('sha256');
      let size = 0;
      let status = 0;
      stream.on('response', (hd) => (status = Number(hd[':status'])));
      stream.on('data', (c: Buffer) => {
        size += c.length;
        h.update(c);
      });
      stream.on('end', () => resolve({ status, size, sha256: h.digest('hex') }));
      stream.on('error', reject);
    }),
    timeoutMs,
    'a large HTTP/2 response through the proxy',
  );
}

describe('HTTP/2 streams through the proxy', () => {
  let origin: Origin | undefined;
  let proxy: TestProxy;

  afterEach(async () => {
    for (const s of clientSessions) s.destroy();
    clientSessions.clear();
    for (const s of clientSockets) s.destroy();
    clientSockets.clear();
    await stopAllProxies();
    await origin?.close();
    origin = undefined;
  });

  async function setup(upstream: 'h2' | 'h1' = 'h2'): Promise<{ origin: Origin; session: http2.ClientHttp2Session }> {
    origin = await startOrigin(upstream === 'h2' ? { tls: 'valid', http2: true } : { tls: 'valid' });
    proxy = await startProxy();
    return { origin, session: await h2ViaProxy(proxy, origin.port) };
  }

  function flowsFor(path: string): Flow[] {
    return proxy.flows().filter((f) => f.request.path === path);
  }

  it.each(['h2', 'h1'] as const)('a hanging stream does not hold up 10 fast streams on the same connection (%s origin)', async (upstream) => {
    const { origin: o, session } = await setup(upstream);
    const hang = session.request({ ':path': '/hang' }, { endStream: true });
    let hangSettled = false;
    const hangDone = collect(hang, 20_000).then(
      () => (hangSettled = true),
      () => (hangSettled = true),
    );
    await waitFor(() => o.requests.some((r) => r.url === '/hang'), { message: 'the origin to receive /hang' });
    const fast = await Promise.all(Array.from({ length: 10 }, (_, i) => get(session, `/hello?n=${i}`)));
    for (const r of fast) {
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('hello');
    }
    expect(hangSettled).toBe(false);
    await proxy.waitForFlows(10);
    expect(flowsFor('/hang')[0]?.response).toBeNull();
    expect(['requesting', 'waiting']).toContain(flowsFor('/hang')[0]?.phase);
    expect(proxy.flows().filter((f) => f.request.path.startsWith('/hello') && f.phase === 'done')).toHaveLength(10);
    hang.close(http2.constants.NGHTTP2_CANCEL);
    await hangDone;
  });

  it('the store shows a stream whose request went upstream as phase "waiting" until the response head', async () => {
    const { origin: o, session } = await setup('h2');
    const hang = session.request({ ':path': '/hang' }, { endStream: true });
    hang.on('error', () => {
      // Closed by afterEach.
    });
    await waitFor(() => o.requests.some((r) => r.url === '/hang'), { message: 'the origin to receive /hang' });
    // The request is complete and at the origin: the flow is waiting for the response (DESIGN.md §4).
    await waitFor(() => flowsFor('/hang')[0]?.phase === 'waiting', { timeoutMs: 1000, message: `phase "waiting" (have ${flowsFor('/hang')[0]?.phase})` });
  });

  describe('flow control both ways (16 MiB)', () => {
    const SIZE = 16 * MiB;

    it.each(['h2', 'h1'] as const)('a 16 MiB download completes with the right hash (%s origin)', async (upstream) => {
      const { session } = await setup(upstream);
      const res = await hashStream(session.request({ ':path': `/bytes/${SIZE}` }, { endStream: true }), 20_000);
      expect(res.status).toBe(200);
      expect(res.size).toBe(SIZE);
      expect(res.sha256).toBe(originBytesSha256(SIZE));
      const flow = await proxy.waitForFlow((f) => f.request.path === `/bytes/${SIZE}`);
      expect(flow.phase).toBe('done');
      expect(flow.response?.body.size).toBe(SIZE);
      expect(flow.response?.body.truncated).toBe(true);
      expect(flow.response?.body.sha256).toBe(originBytesSha256(SIZE));
    });

    it.each(['h2', 'h1'] as const)('a 16 MiB upload (echoed back) completes with the right hashes (%s origin)', async (upstream) => {
      const { origin: o, session } = await setup(upstream);
      const body = randomBytes(SIZE);
      const stream = session.request({ ':method': 'POST', ':path': '/echo', 'content-length': String(SIZE) });
      const result = hashStream(stream, 30_000);
      // Written in pieces so the client honours the proxy's flow-control window as it goes.
      for (let off = 0; off < SIZE; off += MiB) {
        if (!stream.write(body.subarray(off, off + MiB))) await withTimeout(new Promise((r) => stream.once('drain', r)), 10_000, 'the proxy to open its window');
      }
      stream.end();
      const res = await result;
      expect(res.status).toBe(200);
      expect(res.size).toBe(SIZE);
      expect(res.sha256).toBe(sha256(body));
      const got = o.requests.at(-1)!;
      expect(got.bodySize).toBe(SIZE);
      expect(got.bodySha256).toBe(sha256(body));
      const flow = await proxy.waitForFlow((f) => f.request.path === '/echo');
      expect(flow.phase).toBe('done');
      expect(flow.request.body.size).toBe(SIZE);
      expect(flow.request.body.sha256).toBe(sha256(body));
    });
  });

  it('an upstream stream reset becomes a 502 with STREAM_RESET; other streams and the connection keep working', async () => {
    const { origin: o, session } = await setup('h2');
    const slow = get(session, '/slow/300');
    const reset = await get(session, '/reset-stream');
    expect(reset.status).toBe(502);
    expect(reset.headers['x-proxyctl-error']).toBe('STREAM_RESET');
    const flow = await proxy.waitForFlow((f) => f.request.path === '/reset-stream');
    expect(flow.phase).toBe('error');
    expect(flow.error?.code).toBe('STREAM_RESET');
    // The stream that was in flight on both sessions is unharmed …
    const s = await slow;
    expect(s.status).toBe(200);
    expect(s.body.toString()).toBe('slow\n');
    // … and both sessions keep serving.
    const after = await get(session, '/hello');
    expect(after.status).toBe(200);
    expect(session.closed || session.destroyed).toBe(false);
    expect(o.connections).toBe(1);
  });

  it('the origin dropping its session: the request that caused it gets a 502, the next request opens a new session', async () => {
    const { origin: o, session } = await setup('h2');
    expect((await get(session, '/hello')).status).toBe(200);
    // /reset destroys the origin's whole session.
    const reset = await get(session, '/reset', 5000);
    expect(reset.status).toBe(502);
    const resetFlow = await proxy.waitForFlow((f) => f.request.path === '/reset');
    expect(resetFlow.phase).toBe('error');
    expect(reset.headers['x-proxyctl-error']).toBe(resetFlow.error?.code);
    expect(['STREAM_RESET', 'UPSTREAM_RESET']).toContain(resetFlow.error?.code);
    expect(o.connections).toBe(1);
    const after = await get(session, '/hello');
    expect(after.status).toBe(200);
    expect(after.body.toString()).toBe('hello');
    expect(o.connections).toBe(2);
  });

  it('the origin dropping its session: another stream waiting for its head gets a prompt 502 (not a hang)', async () => {
    const { origin: o, session } = await setup('h2');
    const hang = collect(session.request({ ':path': '/hang' }, { endStream: true }), 5000);
    await waitFor(() => o.requests.some((r) => r.url === '/hang'), { message: 'the origin to receive /hang' });
    const reset = get(session, '/reset', 5000);
    // Default upstream timeout is 60 s: an answer within 5 s means the proxy noticed the session's end.
    const h = await hang;
    expect(h.status).toBe(502);
    const hangFlow = await proxy.waitForFlow((f) => f.request.path === '/hang', 1000);
    expect(hangFlow.phase).toBe('error');
    expect(['STREAM_RESET', 'UPSTREAM_RESET']).toContain(hangFlow.error?.code);
    expect(h.headers['x-proxyctl-error']).toBe(hangFlow.error?.code);
    expect((await reset).status).toBe(502);
  });

  /**
   * Download 64 MiB and make the origin go away (all its connections and sessions destroyed) once
   * the client has 1 MiB. Resolves with how the client's stream ended.
   */
  async function cutDownload(o: Origin, session: http2.ClientHttp2Session): Promise<{ how: 'end' | 'reset'; rstCode: number; got: number }> {
    const size = 64 * MiB;
    const stream = session.request({ ':path': `/bytes/${size}` }, { endStream: true });
    let got = 0;
    let cut = false;
    return withTimeout(
      new Promise((resolve) => {
        let ended = false;
        stream.on('data', (c: Buffer) => {
          got += c.length;
          if (got >= MiB && !cut) {
            cut = true;
            void o.close();
          }
        });
        stream.on('end', () => (ended = true));
        stream.on('error', () => {
          // Seen through rstCode on 'close'.
        });
        stream.on('close', () => resolve({ how: ended ? 'end' : 'reset', rstCode: stream.rstCode ?? 0, got }));
      }),
      5000,
      'the download to be cut',
    );
  }

  it.each(['h2', 'h1'] as const)('the origin going away mid-body (%s): the client stream is reset with an error code, never ended cleanly', async (upstream) => {
    const { origin: o, session } = await setup(upstream);
    const r = await cutDownload(o, session);
    expect(r.got).toBeLessThan(64 * MiB);
    // A clean end (or RST_STREAM NO_ERROR) would present a truncated body as complete.
    expect(r).toMatchObject({ how: 'reset' });
    expect(r.rstCode).not.toBe(http2.constants.NGHTTP2_NO_ERROR);
  });

  it('the origin going away mid-body: the flow is an error and its response body capture is "aborted"', async () => {
    const { origin: o, session } = await setup('h2');
    await cutDownload(o, session);
    const flow = await proxy.waitForFlow((f) => f.request.path === `/bytes/${64 * MiB}`, 2000);
    expect(flow.phase).toBe('error');
    expect(['STREAM_RESET', 'UPSTREAM_RESET']).toContain(flow.error?.code);
    expect(flow.response?.status).toBe(200);
    expect(flow.response?.body.state).toBe('aborted');
    expect(flow.response?.body.bytes?.length).toBeGreaterThan(0);
  });

  it('GOAWAY from the origin: a stream above its last-stream-id fails, the next request opens a new session', async () => {
    const { origin: o, session } = await setup('h2');
    const originSessions: http2.ServerHttp2Session[] = [];
    (o.server as http2.Http2SecureServer).on('session', (s) => originSessions.push(s));
    // Open the upstream session first.
    expect((await get(session, '/hello')).status).toBe(200);
    expect(originSessions).toHaveLength(1);
    const hang = collect(session.request({ ':path': '/hang' }, { endStream: true }));
    await waitFor(() => o.requests.some((r) => r.url === '/hang'), { message: 'the origin to receive /hang' });
    // GOAWAY naming stream 1 as the last processed: the /hang stream (3) was not processed (RFC 9113 §6.8).
    originSessions[0]!.goaway(http2.constants.NGHTTP2_NO_ERROR, 1);
    const h = await hang;
    expect(h.status).toBe(502);
    const hangFlow = await proxy.waitForFlow((f) => f.request.path === '/hang');
    expect(hangFlow.phase).toBe('error');
    expect(hangFlow.error?.code).toBe('STREAM_RESET');
    const after = await get(session, '/hello?after-goaway');
    expect(after.status).toBe(200);
    expect(o.connections).toBe(2);
    expect(originSessions).toHaveLength(2);
  });

  it('a graceful GOAWAY lets the stream in flight finish; later requests go to a new session', async () => {
    const { origin: o, session } = await setup('h2');
    const originSessions: http2.ServerHttp2Session[] = [];
    (o.server as http2.Http2SecureServer).on('session', (s) => originSessions.push(s));
    const slow = get(session, '/slow/300');
    await waitFor(() => o.requests.some((r) => r.url === '/slow/300'), { message: 'the origin to receive /slow/300' });
    // close(): GOAWAY with the last stream it processed, then wait for its streams (RFC 9113 §6.8).
    originSessions[0]!.close();
    const s = await slow;
    expect(s.status).toBe(200);
    expect(s.body.toString()).toBe('slow\n');
    const after = await get(session, '/hello');
    expect(after.status).toBe(200);
    expect(o.connections).toBe(2);
    const flows = await proxy.waitForFlows(2);
    expect(flows.every((f) => f.phase === 'done')).toBe(true);
  });

  /** Resolves when the origin's stream for `path` closes (the proxy cancelled or finished it). */
  function originStreamClosed(o: Origin, path: string): { closed: () => boolean } {
    let closed = false;
    (o.server as http2.Http2SecureServer).on('stream', (stream, headers) => {
      if (headers[':path'] === path) stream.once('close', () => (closed = true));
    });
    return { closed: () => closed };
  }

  it('a client resetting one stream: the other streams, the connection and the upstream session keep working', async () => {
    const { origin: o, session } = await setup('h2');
    const stream = session.request({ ':path': '/hang' }, { endStream: true });
    stream.on('error', () => {
      // Our own reset.
    });
    const slow = get(session, '/slow/300');
    await waitFor(() => o.requests.some((r) => r.url === '/hang'), { message: 'the origin to receive /hang' });
    stream.close(http2.constants.NGHTTP2_CANCEL);
    expect((await slow).status).toBe(200);
    const after = await get(session, '/hello');
    expect(after.status).toBe(200);
    expect(after.body.toString()).toBe('hello');
    expect(session.closed || session.destroyed).toBe(false);
    expect(o.connections).toBe(1);
  });

  it('a client resetting a stream that waits for its head: the flow ends as CLIENT_ABORTED and the upstream stream is cancelled', async () => {
    const { origin: o, session } = await setup('h2');
    const upstream = originStreamClosed(o, '/hang');
    const stream = session.request({ ':path': '/hang' }, { endStream: true });
    stream.on('error', () => {
      // Our own reset.
    });
    await waitFor(() => o.requests.some((r) => r.url === '/hang'), { message: 'the origin to receive /hang' });
    stream.close(http2.constants.NGHTTP2_CANCEL);
    const flow = await proxy.waitForFlow((f) => f.request.path === '/hang', 2000);
    expect(flow.phase).toBe('error');
    expect(flow.error?.code).toBe('CLIENT_ABORTED');
    await waitFor(upstream.closed, { timeoutMs: 2000, message: "the origin's /hang stream to be closed by the proxy" });
  });

  it('a client resetting a download mid-body: the flow ends as CLIENT_ABORTED (not done) and the upstream stream is cancelled', async () => {
    const { origin: o, session } = await setup('h2');
    const size = 64 * MiB;
    const upstream = originStreamClosed(o, `/bytes/${size}`);
    const stream = session.request({ ':path': `/bytes/${size}` }, { endStream: true });
    stream.on('error', () => {
      // Our own reset.
    });
    let got = 0;
    await withTimeout(
      new Promise<void>((resolve) => {
        stream.on('data', (c: Buffer) => {
          got += c.length;
          if (got >= MiB) resolve();
        });
      }),
      10_000,
      'the first MiB of the download',
    );
    stream.close(http2.constants.NGHTTP2_CANCEL);
    const flow = await proxy.waitForFlow((f) => f.request.path === `/bytes/${size}`, 2000);
    expect(flow.response?.status).toBe(200);
    expect(flow.response?.body.size).toBeLessThan(size);
    expect(flow.phase).toBe('error');
    expect(flow.error?.code).toBe('CLIENT_ABORTED');
    await waitFor(upstream.closed, { timeoutMs: 2000, message: "the origin's download stream to be closed by the proxy" });
    // Nothing more was read from the origin than the windows allow (the proxy stopped reading).
    expect(proxy.flows().find((f) => f.request.path === `/bytes/${size}`)?.response?.body.size).toBeLessThan(size);
    const after = await get(session, '/hello');
    expect(after.status).toBe(200);
    expect(o.connections).toBe(1);
  });
});
