/**
 * WebSocket interception through the real proxy: `ws://` in absolute-form, `wss://` inside
 * CONNECT + TLS, permessage-deflate both ways, and what happens when a side misbehaves. Real `ws`
 * servers and clients on 127.0.0.1; every server, client and proxy is closed in afterEach.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer, type PerMessageDeflateOptions, type RawData } from 'ws';
import { headerValue, type Flow, type WebSocketMessage } from '../../src/proxy/core/flow.js';
import { originCerts } from '../helpers/origin-certs.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { openRaw, type RawSocket } from '../helpers/raw-client.js';
import { readFixtureCaPem } from '../helpers/test-ca.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

// --- origins ----------------------------------------------------------------------------------

interface WsOrigin {
  port: number;
  /** Upgrade requests as the origin received them. */
  requests: http.IncomingMessage[];
  /** Close events the origin's side of each connection saw. */
  closes: Array<{ code: number; reason: string }>;
  close(): Promise<void>;
}

function toBuffer(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/**
 * An echo origin. Text commands: `die` cuts the TCP connection without a close frame, `close-me`
 * starts the closing handshake, `frag` answers with a three-part message and a ping in between.
 */
async function startWsOrigin(opts: { tls?: boolean; perMessageDeflate?: boolean | PerMessageDeflateOptions } = {}): Promise<WsOrigin> {
  const server = opts.tls ? https.createServer({ cert: originCerts.valid.cert, key: originCerts.valid.key }) : http.createServer();
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  if (opts.tls) server.on('secureConnection', (s: tls.TLSSocket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: opts.perMessageDeflate ?? false });
  const origin: WsOrigin = { port: 0, requests: [], closes: [], close: async () => {} };
  wss.on('connection', (ws, req) => {
    origin.requests.push(req);
    ws.on('error', () => {
      /* a cut connection; the test looks at the close event */
    });
    ws.on('close', (code, reason) => origin.closes.push({ code, reason: reason.toString() }));
    ws.on('message', (data, isBinary) => {
      const buf = toBuffer(data);
      const text = isBinary ? null : buf.toString();
      if (text === 'die') ws.terminate();
      else if (text === 'close-me') ws.close(4001, 'origin says bye');
      else if (text === 'frag') {
        ws.send('part1-', { fin: false });
        ws.ping('mid');
        ws.send('part2-', { fin: false });
        ws.send('part3', { fin: true });
      } else ws.send(buf, { binary: isBinary });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin.port = (server.address() as AddressInfo).port;
  origin.close = async () => {
    for (const c of wss.clients) c.terminate();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return origin;
}

/** A plain HTTP origin that refuses every upgrade with a 403. */
async function startRefusingOrigin(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.end('not an upgrade\n'));
  server.on('upgrade', (_req, socket: net.Socket) => {
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nConnection: close\r\n\r\nforbidden\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// --- clients ----------------------------------------------------------------------------------

/** A client and everything it received. */
interface Probe {
  ws: WebSocket;
  received: Array<{ data: Buffer; isBinary: boolean }>;
  pings: Buffer[];
  closed: Promise<{ code: number; reason: string }>;
}

function probe(ws: WebSocket): Probe {
  const p: Probe = {
    ws,
    received: [],
    pings: [],
    closed: new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
  };
  ws.on('message', (data, isBinary) => p.received.push({ data: toBuffer(data), isBinary }));
  ws.on('ping', (data) => p.pings.push(data));
  ws.on('error', () => {
    /* surfaced through 'close' (1006) or the opened() rejection */
  });
  return p;
}

async function opened(p: Probe): Promise<Probe> {
  if (p.ws.readyState !== WebSocket.OPEN) {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        p.ws.once('open', () => resolve());
        p.ws.once('error', reject);
        p.ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
      }),
      5000,
      'the WebSocket handshake through the proxy',
    );
  }
  return p;
}

const clients: WebSocket[] = [];

/**
 * `ws://` through the proxy. A proxy expects the request target in absolute-form (RFC 9112 §3.2.2),
 * which `ws` never writes itself: the request line is rewritten before the request is sent.
 */
function connectPlain(proxy: TestProxy, originPort: number, path = '/chat', perMessageDeflate: boolean | PerMessageDeflateOptions = false): Promise<Probe> {
  const ws = new WebSocket(`ws://127.0.0.1:${originPort}${path}`, {
    perMessageDeflate,
    handshakeTimeout: 5000,
    createConnection: (() => net.connect(proxy.port, '127.0.0.1')) as unknown as typeof net.createConnection,
    finishRequest: (req) => {
      req.path = `http://127.0.0.1:${originPort}${path}`;
      req.end();
    },
  });
  clients.push(ws);
  return opened(probe(ws));
}

/** `wss://` through the proxy: CONNECT, then TLS trusting the proxy's (fixture) CA, then the handshake. */
async function connectTls(proxy: TestProxy, host: string, originPort: number, path = '/secure'): Promise<Probe> {
  const tunnel = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(proxy.port, '127.0.0.1');
    let head = '';
    const onData = (c: Buffer) => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onData);
      s.pause();
      if (/^HTTP\/1\.1 200/.test(head)) resolve(s);
      else reject(new Error(`CONNECT refused: ${head}`));
    };
    s.on('data', onData);
    s.once('error', reject);
    s.once('connect', () => s.write(`CONNECT ${host}:${originPort} HTTP/1.1\r\nHost: ${host}:${originPort}\r\n\r\n`));
  });
  const { cert } = await readFixtureCaPem();
  const secure = await withTimeout(
    new Promise<tls.TLSSocket>((resolve, reject) => {
      const t = tls.connect({ socket: tunnel, ca: cert, servername: host });
      t.once('secureConnect', () => resolve(t));
      t.once('error', reject);
    }),
    5000,
    'TLS with the proxy inside the tunnel',
  );
  const ws = new WebSocket(`wss://${host}:${originPort}${path}`, {
    handshakeTimeout: 5000,
    createConnection: (() => secure) as unknown as typeof net.createConnection,
  });
  clients.push(ws);
  return opened(probe(ws));
}

/** The absolute-form upgrade request line and headers, written by hand. */
function rawUpgrade(originPort: number, path = '/raw'): string {
  return (
    `GET http://127.0.0.1:${originPort}${path} HTTP/1.1\r\n` +
    `Host: 127.0.0.1:${originPort}\r\n` +
    'Connection: Upgrade\r\n' +
    'Upgrade: websocket\r\n' +
    'Sec-WebSocket-Version: 13\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'
  );
}

// --- flow helpers -------------------------------------------------------------------------------

function wsFlows(proxy: TestProxy): Flow[] {
  return proxy.flows().filter((f) => f.kind === 'websocket');
}

function liveFlow(proxy: TestProxy): Flow | undefined {
  return wsFlows(proxy)[0];
}

function finishedWsFlow(proxy: TestProxy): Promise<Flow> {
  return proxy.waitForFlow((f) => f.kind === 'websocket');
}

function summary(messages: WebSocketMessage[]): string[] {
  return messages.map((m) => `${m.direction} ${m.type} ${m.type === 'binary' ? `${m.size}B` : m.payload.toString()}`);
}

function patterned(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

// --------------------------------------------------------------------------------------------------

describe('WebSocket interception', () => {
  let origin: WsOrigin | undefined;
  const closers: Array<() => Promise<void>> = [];
  const raws: RawSocket[] = [];

  afterEach(async () => {
    for (const ws of clients.splice(0)) ws.terminate();
    for (const r of raws.splice(0)) r.close();
    await stopAllProxies();
    await origin?.close();
    origin = undefined;
    for (const c of closers.splice(0)) await c();
  });

  it('relays ws:// messages both ways unchanged and captures them on one websocket flow', async () => {
    origin = await startWsOrigin();
    const proxy = await startProxy();
    const announced: WebSocketMessage[] = [];
    proxy.runtime.bus.on('ws-message', (e) => announced.push(e.message));
    const c = await connectPlain(proxy, origin.port);

    const big = patterned(200 * 1024);
    c.ws.send('hello');
    c.ws.send(Buffer.from([1, 2, 3]));
    c.ws.send(big);
    // A fragmented client message: three frames of one message.
    c.ws.send('a-', { fin: false });
    c.ws.send('b-', { fin: false });
    c.ws.send('c', { fin: true });
    c.ws.send('frag');
    await waitFor(() => c.received.length >= 5, { message: 'five answers from the echo origin' });
    expect(c.received[0]).toEqual({ data: Buffer.from('hello'), isBinary: false });
    expect(c.received[1]).toEqual({ data: Buffer.from([1, 2, 3]), isBinary: true });
    expect(c.received[2]!.isBinary).toBe(true);
    expect(c.received[2]!.data.equals(big)).toBe(true);
    expect(c.received[3]).toEqual({ data: Buffer.from('a-b-c'), isBinary: false });
    expect(c.received[4]).toEqual({ data: Buffer.from('part1-part2-part3'), isBinary: false });
    expect(c.pings.map((p) => p.toString())).toEqual(['mid']);

    // While the connection is open the store already holds the messages (through ws-message).
    const live = await waitFor(() => {
      const f = liveFlow(proxy);
      return f && f.websocket!.messages.length >= 12 ? f : undefined;
    }, { message: 'the live flow to hold 12 messages' });
    expect(live.phase).toBe('responding');
    expect(live.response?.status).toBe(101);
    // Snapshots stay as they were: the next message makes a new flow object.
    c.ws.send('one more');
    await waitFor(() => liveFlow(proxy)!.websocket!.messages.length >= 14);
    expect(live.websocket!.messages).toHaveLength(12);
    expect(liveFlow(proxy)).not.toBe(live);

    c.ws.close(1000, 'bye');
    expect(await withTimeout(c.closed, 5000, 'client close')).toEqual({ code: 1000, reason: 'bye' });
    const flow = await finishedWsFlow(proxy);

    expect(flow).toMatchObject({ kind: 'websocket', phase: 'done', error: null });
    expect(flow.request).toMatchObject({ method: 'GET', scheme: 'http', host: '127.0.0.1', port: origin.port, path: '/chat' });
    expect(flow.response).toMatchObject({ status: 101, statusText: 'Switching Protocols' });
    const ws = flow.websocket!;
    expect(ws).toMatchObject({ closedBy: 'client', closeCode: 1000, closeReason: 'bye', droppedMessages: 0 });
    const data = ws.messages.filter((m) => m.type === 'text' || m.type === 'binary');
    // Each direction in wire order (the two directions interleave as the echoes come back).
    const sent = ['text hello', 'binary 3B', `binary ${200 * 1024}B`, 'text a-b-c'];
    expect(summary(data.filter((m) => m.direction === 'client'))).toEqual([...sent, 'text frag', 'text one more'].map((s) => `client ${s}`));
    expect(summary(data.filter((m) => m.direction === 'server'))).toEqual([...sent, 'text part1-part2-part3', 'text one more'].map((s) => `server ${s}`));
    // An echo is recorded after what it echoes.
    expect(data.findIndex((m) => m.direction === 'server')).toBeGreaterThan(data.findIndex((m) => m.direction === 'client'));
    const bigOnes = data.filter((m) => m.size === 200 * 1024);
    for (const m of bigOnes) {
      expect(m.truncated).toBe(true);
      expect(m.payload.equals(big.subarray(0, 64 * 1024))).toBe(true);
    }
    expect(data.find((m) => m.size === 3)!.payload.equals(Buffer.from([1, 2, 3]))).toBe(true);
    // Control frames: the origin's ping, the client's automatic pong, both close frames.
    expect(summary(ws.messages.filter((m) => m.type === 'ping' || m.type === 'pong'))).toEqual(['server ping mid', 'client pong mid']);
    const closes = ws.messages.filter((m) => m.type === 'close');
    expect(closes.map((m) => m.direction)).toEqual(['client', 'server']);
    expect(closes[0]!.payload.subarray(2).toString()).toBe('bye');
    for (const m of ws.messages) expect(m.time).toBeGreaterThan(0);
    // Every message was announced on the bus too, in the same order.
    expect(announced).toEqual(ws.messages);
    // The origin got the handshake headers, and no proxy-only ones.
    const got = origin.requests[0]!;
    expect(got.headers.upgrade).toBe('websocket');
    expect(got.headers.connection).toBe('Upgrade');
    expect(got.headers['sec-websocket-key']).toBeTruthy();
  });

  it('records a close started by the origin', async () => {
    origin = await startWsOrigin();
    const proxy = await startProxy();
    const c = await connectPlain(proxy, origin.port);
    c.ws.send('close-me');
    expect(await withTimeout(c.closed, 5000, 'client close')).toEqual({ code: 4001, reason: 'origin says bye' });
    const flow = await finishedWsFlow(proxy);
    expect(flow.phase).toBe('done');
    expect(flow.websocket).toMatchObject({ closedBy: 'server', closeCode: 4001, closeReason: 'origin says bye' });
  });

  it('relays wss:// inside CONNECT + TLS', async () => {
    origin = await startWsOrigin({ tls: true });
    // The origin leaf names localhost; make sure "localhost" means the IPv4 address it listens on.
    const proxy = await startProxy({ flags: { resolve: ['localhost=127.0.0.1'] } });
    const c = await connectTls(proxy, 'localhost', origin.port);
    c.ws.send('secure hello');
    c.ws.send(patterned(1000));
    await waitFor(() => c.received.length >= 2);
    expect(c.received[0]!.data.toString()).toBe('secure hello');
    expect(c.received[1]!.data.equals(patterned(1000))).toBe(true);
    c.ws.close(1000, 'done');
    await withTimeout(c.closed, 5000, 'client close');
    const flow = await finishedWsFlow(proxy);
    expect(flow.request).toMatchObject({ scheme: 'https', host: 'localhost', port: origin.port, path: '/secure' });
    expect(flow.client.tlsVersion).toMatch(/^TLSv1\.[23]$/);
    expect(flow.server.tlsVersion).toMatch(/^TLSv1\.[23]$/);
    expect(flow.server.certificate).toContain('CN=');
    expect(summary(flow.websocket!.messages.filter((m) => m.type === 'text'))).toEqual(['client text secure hello', 'server text secure hello']);
    expect(flow.websocket).toMatchObject({ closedBy: 'client', closeCode: 1000, closeReason: 'done' });
  });

  describe('permessage-deflate (RFC 7692), relayed compressed and inflated for capture', () => {
    const texts = ['the quick brown fox', 'the quick brown fox jumps', 'the quick brown fox jumps over the lazy dog', 'ünïcødé ✓ the quick brown fox'];

    it.each([
      ['with context takeover', { threshold: 0 }, { threshold: 0 }, /^permessage-deflate(; client_max_window_bits=15)?$/],
      [
        'without context takeover and with small windows',
        { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 9 },
        // ws offers client_max_window_bits without a value by default, so the server may pick one.
        { threshold: 0 },
        /^permessage-deflate(?=.*; server_no_context_takeover)(?=.*; client_no_context_takeover)(?=.*; server_max_window_bits=10)(?=.*; client_max_window_bits=9)/,
      ],
    ] as Array<[string, PerMessageDeflateOptions, PerMessageDeflateOptions, RegExp]>)('%s', async (_name, serverOpts, clientOpts, extension) => {
      origin = await startWsOrigin({ perMessageDeflate: serverOpts });
      const proxy = await startProxy();
      const c = await connectPlain(proxy, origin.port, '/deflate', clientOpts);
      expect(c.ws.extensions).toBe('permessage-deflate');
      const large = 'lorem ipsum dolor sit amet '.repeat(4000); // ~105 KiB, compresses to very little
      // A burst, so that several compressed messages are in the inflater at once.
      const burst = Array.from({ length: 100 }, (_, i) => `burst ${i} ${'xy'.repeat(i)}`);
      for (const t of texts) c.ws.send(t);
      c.ws.send(large);
      c.ws.send(patterned(5000));
      for (const t of burst) c.ws.send(t);
      const total = texts.length + 2 + burst.length;
      await waitFor(() => c.received.length >= total, { message: 'every echo' });
      expect(c.received.slice(0, texts.length).map((r) => r.data.toString())).toEqual(texts);
      expect(c.received[texts.length]!.data.toString()).toBe(large);
      expect(c.received.slice(texts.length + 2).map((r) => r.data.toString())).toEqual(burst);
      c.ws.close(1000, 'deflated');
      await withTimeout(c.closed, 5000, 'client close');
      // The bytes really went compressed over the wire (the proxy relays them as they are).
      expect(origin.requests[0]!.socket.bytesRead).toBeLessThan(Buffer.byteLength(large) / 4);

      const flow = await finishedWsFlow(proxy);
      const data = flow.websocket!.messages.filter((m) => m.type === 'text' || m.type === 'binary');
      const expected = [...texts, large.slice(0, 64 * 1024)];
      for (const direction of ['client', 'server'] as const) {
        const mine = data.filter((m) => m.direction === direction);
        expect(mine.slice(0, expected.length).map((m) => m.payload.toString())).toEqual(expected);
        expect(mine[texts.length]).toMatchObject({ size: Buffer.byteLength(large), truncated: true });
        expect(mine[texts.length + 1]).toMatchObject({ type: 'binary', size: 5000, truncated: false });
        expect(mine[texts.length + 1]!.payload.equals(patterned(5000))).toBe(true);
        expect(mine.slice(texts.length + 2, total).map((m) => m.payload.toString())).toEqual(burst);
      }
      expect(flow.websocket).toMatchObject({ closedBy: 'client', closeCode: 1000, closeReason: 'deflated' });
      expect(flow.tags).not.toContain('ws-capture-stopped');
      // What the origin agreed on, as the client got it in the 101.
      expect(headerValue(flow.response!.headers, 'sec-websocket-extensions')).toMatch(extension);
      // The negotiation went through the proxy untouched.
      expect(origin.requests[0]!.headers['sec-websocket-extensions']).toMatch(/permessage-deflate/);
    });
  });

  it('keeps an idle WebSocket open past the HTTP idle and header timeouts', async () => {
    origin = await startWsOrigin();
    const proxy = await startProxy({ net: { clientIdleTimeoutMs: 200, headersTimeoutMs: 200 } });
    const c = await connectPlain(proxy, origin.port);
    await new Promise((r) => setTimeout(r, 1000));
    c.ws.send('still here');
    await waitFor(() => c.received.length >= 1, { message: 'an echo after a second of silence' });
    expect(c.received[0]!.data.toString()).toBe('still here');
    expect(liveFlow(proxy)?.phase).toBe('responding');
  });

  it('records an origin that cuts the connection without a close frame as abrupt', async () => {
    origin = await startWsOrigin();
    const proxy = await startProxy();
    const c = await connectPlain(proxy, origin.port);
    c.ws.send('die');
    expect((await withTimeout(c.closed, 5000, 'client close')).code).toBe(1006);
    const flow = await finishedWsFlow(proxy);
    expect(flow.phase).toBe('error');
    expect(flow.error?.code).toBe('UPSTREAM_RESET');
    expect(flow.websocket).toMatchObject({ closedBy: 'abrupt', closeCode: null });
    expect(summary(flow.websocket!.messages)).toEqual(['client text die']);
  });

  it('records a client that cuts the connection as abrupt and ends the origin side', async () => {
    origin = await startWsOrigin();
    const proxy = await startProxy();
    const c = await connectPlain(proxy, origin.port);
    c.ws.send('ping me back');
    await waitFor(() => c.received.length >= 1);
    c.ws.terminate();
    const flow = await finishedWsFlow(proxy);
    expect(flow.phase).toBe('error');
    expect(flow.error?.code).toBe('CLIENT_ABORTED');
    expect(flow.websocket?.closedBy).toBe('abrupt');
    await waitFor(() => origin!.closes.length === 1, { message: 'the origin side to close' });
    expect(origin.closes[0]!.code).toBe(1006);
  });

  it('keeps at most 1000 messages on the flow and counts the rest', async () => {
    origin = await startWsOrigin();
    const proxy = await startProxy();
    const c = await connectPlain(proxy, origin.port);
    for (let i = 0; i < 510; i++) c.ws.send(`m${i}`);
    await waitFor(() => c.received.length >= 510, { message: '510 echoes' });
    // The store folds ws-message events under the same cap.
    const live = await waitFor(() => {
      const ws = liveFlow(proxy)?.websocket;
      return ws && ws.messages.length + ws.droppedMessages >= 1020 ? ws : undefined;
    });
    expect(live).toMatchObject({ droppedMessages: 20 });
    expect(live.messages).toHaveLength(1000);
    c.ws.close(1000);
    await withTimeout(c.closed, 5000, 'client close');
    const flow = await finishedWsFlow(proxy);
    expect(flow.websocket!.messages).toHaveLength(1000);
    // The two close frames are past the cap as well.
    expect(flow.websocket!.droppedMessages).toBe(22);
    expect(flow.websocket).toMatchObject({ closedBy: 'client', closeCode: 1000 });
  });

  it('relays an answer other than 101 as an ordinary response, and records it', async () => {
    const refusing = await startRefusingOrigin();
    closers.push(() => refusing.close());
    const proxy = await startProxy();
    const raw = await openRaw(proxy.port);
    raws.push(raw);
    await raw.write(rawUpgrade(refusing.port));
    const answer = (await raw.readToEnd()).toString('latin1');
    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(answer.endsWith('\r\n\r\nforbidden\n')).toBe(true);
    const flow = await finishedWsFlow(proxy);
    expect(flow.phase).toBe('done');
    expect(flow.response).toMatchObject({ status: 403 });
    expect(flow.response!.body.bytes?.toString()).toBe('forbidden\n');
    expect(flow.websocket).toMatchObject({ messages: [], closedBy: null });
  });

  it('answers 502 with an error code when the origin is down', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const proxy = await startProxy();
    const raw = await openRaw(proxy.port);
    raws.push(raw);
    await raw.write(rawUpgrade(port));
    const answer = (await raw.readToEnd()).toString('latin1');
    expect(answer).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(answer).toContain('UPSTREAM_REFUSED');
    const flow = await finishedWsFlow(proxy);
    expect(flow.phase).toBe('error');
    expect(flow.error?.code).toBe('UPSTREAM_REFUSED');
    expect(flow.response?.status).toBe(502);
  });

  it('refuses a wss:// origin whose certificate is not trusted', async () => {
    // Trust nothing extra: the origin's CA is then unknown to the proxy.
    origin = await startWsOrigin({ tls: true });
    const proxy = await startProxy({ flags: { resolve: ['localhost=127.0.0.1'] }, upstreamCa: [] });
    await expect(connectTls(proxy, 'localhost', origin.port)).rejects.toThrow(/unexpected response 502/);
    const flow = await finishedWsFlow(proxy);
    expect(flow.error?.code).toMatch(/^UPSTREAM_CERT_/);
  });
});
