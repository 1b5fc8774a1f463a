/**
 * Origin servers for tests: real HTTP/1.1, HTTPS and HTTP/2 (+ HTTP/1.1 fallback by ALPN) servers on
 * 127.0.0.1, port 0, with a fixed set of routes (see `handle`). One route handler over the
 * `(req, res)` compatibility API serves every flavour, so a test can compare protocols on equal terms.
 *
 * Every server records what it received (`origin.requests`) and counts TCP connections; `close()`
 * destroys every socket, so a hanging request never keeps a test alive.
 */
import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { originCertFor, type OriginTlsKind } from './origin-certs.js';

export interface OriginOptions {
  /** Serve TLS with this origin leaf certificate (chained to `originCa`). Plain HTTP when omitted. */
  tls?: OriginTlsKind;
  /** Serve HTTP/2 (ALPN h2) with HTTP/1.1 fallback (ALPN http/1.1). Implies `tls: 'valid'` if no `tls`. */
  http2?: boolean;
  /** Listen address; `::1` for IPv6 tests (the URL then uses `[::1]`). @default '127.0.0.1' */
  host?: '127.0.0.1' | '::1';
}

/** One request as the origin received it. */
export interface OriginRequest {
  method: string;
  /** Request target as received (origin-form, e.g. `/echo?x=1`). */
  url: string;
  /** Node's `req.httpVersion`: `1.1`, `1.0` or `2.0`. */
  httpVersion: string;
  /** Header names and values in wire order and case (`[k1, v1, k2, v2 …]`; H2 includes pseudo-headers). */
  rawHeaders: string[];
  /**
   * Request body as received, up to `RECORD_LIMIT` bytes (see `bodySize`, `bodyTruncated`).
   * Empty until the request body ended (`complete`).
   */
  body: Buffer;
  /** Total body bytes received. */
  bodySize: number;
  /** Hex SHA-256 of the whole body, once complete. */
  bodySha256: string | null;
  /** True when the body was larger than `RECORD_LIMIT` and `body` holds only the head. */
  bodyTruncated: boolean;
  /** Raw trailers (`[k1, v1 …]`), once complete. */
  trailers: string[];
  /** True once the request body ended. */
  complete: boolean;
  /** Client-side port of the connection (distinguishes connections). */
  remotePort: number;
  /** True when the request came with `Expect: 100-continue` and the server answered 100. */
  sentContinue: boolean;
}

export interface Origin {
  port: number;
  /**
   * `http://127.0.0.1:PORT`, or `https://localhost:PORT` for TLS (the leaf names localhost).
   * With `host: '::1'`: `http://[::1]:PORT` / `https://[::1]:PORT` (the leaf has IP SAN ::1).
   */
  url: string;
  /** Requests in arrival order (pushed when the request headers arrive). */
  readonly requests: OriginRequest[];
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Destroy every connection and stop listening. Idempotent. */
  close(): Promise<void>;
  server: http.Server | https.Server | http2.Http2SecureServer;
}

/** Bodies recorded in `OriginRequest.body` are capped (a 1 GiB upload must not be kept). */
export const RECORD_LIMIT = 64 * 1024 * 1024;
/** Chunk size of `/bytes/N` responses. */
export const BYTES_CHUNK = 64 * 1024;
/** Largest N accepted by `/bytes/N`. */
export const BYTES_MAX = 1024 * 1024 * 1024;
/** The JSON object `/gzip` sends (gzip-encoded). */
export const GZIP_PAYLOAD = { gzip: true, message: 'hello from a gzip-encoded body', items: [1, 2, 3] };
/** Header pairs `/headers` answers with, in this exact order and case (H2 lowercases them). */
export const HEADERS_ROUTE_RESPONSE: ReadonlyArray<readonly [string, string]> = [
  ['X-Custom-B', '1'],
  ['x-custom-a', '2'],
  ['X-MiXeD', '3'],
  ['Content-Type', 'application/json'],
];
/** The chunks `/chunked` writes, and its trailer. */
export const CHUNKED_PARTS = ['chunk-one\n', 'chunk-two\n', 'chunk-three\n'] as const;
export const EARLY_HINTS_LINK = '</style.css>; rel=preload; as=style';

// --- deterministic bytes ----------------------------------------------------------------------

const TABLE_SPAN = 1024 * 1024;
let table: Buffer | null = null;

/**
 * A 1 MiB (+ one chunk) table of xorshift32 output. `/bytes/N` sends chunk k as the slice at offset
 * `k * 40009 mod 1 MiB`: an odd stride gives 2^20 distinct chunk offsets, so reordered or duplicated
 * chunks change the bytes, while serving 1 GiB costs no per-byte work in the origin.
 */
function byteTable(): Buffer {
  if (table) return table;
  const buf = Buffer.alloc(TABLE_SPAN + BYTES_CHUNK);
  let x = 0x9e3779b9;
  for (let i = 0; i < buf.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf.writeUInt32LE(x >>> 0, i);
  }
  table = buf;
  return buf;
}

/** The chunks of `/bytes/N`, in order (views into a shared table: do not mutate). */
export function* originByteChunks(n: number): Generator<Buffer> {
  const t = byteTable();
  for (let k = 0, sent = 0; sent < n; k++) {
    const len = Math.min(BYTES_CHUNK, n - sent);
    const off = (k * 40009) % TABLE_SPAN;
    yield t.subarray(off, off + len);
    sent += len;
  }
}

/** The exact body of `/bytes/N` (for small N; use `originBytesSha256` for big ones). */
export function originBytes(n: number): Buffer {
  return Buffer.concat([...originByteChunks(n)]);
}

/** Hex SHA-256 of the body of `/bytes/N`, without allocating it. */
export function originBytesSha256(n: number): string {
  const h = createHash('sha256');
  for (const c of originByteChunks(n)) h.update(c);
  return h.digest('hex');
}

// --- the shared handler -------------------------------------------------------------------------

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

interface ServerState {
  requests: OriginRequest[];
  timers: Set<NodeJS.Timeout>;
  closing: boolean;
}

function isH2(req: Req): req is http2.Http2ServerRequest {
  return req.httpVersionMajor === 2;
}

function record(req: Req, state: ServerState, sentContinue: boolean): { entry: OriginRequest; ended: Promise<void> } {
  const entry: OriginRequest = {
    method: req.method ?? '',
    url: req.url ?? '',
    httpVersion: req.httpVersion,
    rawHeaders: [...req.rawHeaders],
    body: Buffer.alloc(0),
    bodySize: 0,
    bodySha256: null,
    bodyTruncated: false,
    trailers: [],
    complete: false,
    remotePort: req.socket?.remotePort ?? 0,
    sentContinue,
  };
  state.requests.push(entry);
  const chunks: Buffer[] = [];
  let kept = 0;
  const hash: Hash = createHash('sha256');
  req.on('data', (chunk: Buffer) => {
    entry.bodySize += chunk.length;
    hash.update(chunk);
    if (kept < RECORD_LIMIT) {
      const part = chunk.length > RECORD_LIMIT - kept ? chunk.subarray(0, RECORD_LIMIT - kept) : chunk;
      chunks.push(part);
      kept += part.length;
    }
    if (entry.bodySize > kept) entry.bodyTruncated = true;
  });
  const ended = new Promise<void>((resolve) => {
    req.on('end', () => {
      entry.body = Buffer.concat(chunks);
      entry.bodySha256 = hash.digest('hex');
      entry.trailers = [...req.rawTrailers];
      entry.complete = true;
      resolve();
    });
  });
  // An aborted request never ends; the route handlers give up with it.
  req.on('error', () => {
    // Client went away mid-body: nothing to answer, the entry stays incomplete on purpose.
  });
  return { entry, ended };
}

function send(res: Res, status: number, body: string | Buffer, headers: Record<string, string | number> = {}): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': buf.length, ...headers });
  res.end(buf);
}

/** Write with backpressure; resolves false when the response went away. */
function writeChunk(res: Res, chunk: Buffer | string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  // The compat response types differ only in overloads; both accept (chunk).
  if ((res as http.ServerResponse).write(chunk)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

function delay(ms: number, state: ServerState): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      state.timers.delete(t);
      resolve();
    }, ms);
    state.timers.add(t);
  });
}

async function handle(req: Req, res: Res, state: ServerState, sentContinue = false): Promise<void> {
  const { entry, ended } = record(req, state, sentContinue);
  const method = req.method ?? 'GET';
  const path = (req.url ?? '/').split('?')[0]!;
  const seg = path.split('/');
  const h2 = isH2(req);

  if (path === '/hello' && (method === 'GET' || method === 'HEAD')) {
    await ended;
    if (method === 'HEAD') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 5 });
      res.end();
    } else send(res, 200, 'hello');
    return;
  }

  if (path === '/echo') {
    const headers: Record<string, string> = {
      'content-type': String(req.headers['content-type'] ?? 'application/octet-stream'),
      'x-echo-method': method,
      'x-echo-content-length': String(req.headers['content-length'] ?? ''),
      'x-echo-transfer-encoding': String(req.headers['transfer-encoding'] ?? ''),
    };
    const len = req.headers['content-length'];
    if (len !== undefined && /^\d+$/.test(len)) headers['content-length'] = len;
    res.writeHead(200, headers);
    // Stream the body back as it arrives, pausing the request while the response is full.
    req.on('data', (chunk: Buffer) => {
      if (!(res as http.ServerResponse).write(chunk)) {
        req.pause();
        res.once('drain', () => req.resume());
      }
    });
    await ended;
    res.end();
    return;
  }

  if (seg[1] === 'bytes' && seg.length === 3 && method === 'GET') {
    const n = Number(seg[2]);
    await ended;
    if (!/^\d+$/.test(seg[2]!) || n > BYTES_MAX) return send(res, 400, `bad size (0..${BYTES_MAX})\n`);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
    for (const chunk of originByteChunks(n)) if (!(await writeChunk(res, chunk))) return;
    res.end();
    return;
  }

  if (path === '/chunked' && method === 'GET') {
    await ended;
    // No content-length: H1 uses chunked framing, which trailers need (RFC 9112 §7.1.2).
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', trailer: 'x-trailer' });
    for (const part of CHUNKED_PARTS) {
      if (!(await writeChunk(res, part))) return;
      await new Promise((r) => setImmediate(r));
    }
    res.addTrailers({ 'x-trailer': 'done' });
    res.end();
    return;
  }

  if (path === '/headers' && method === 'GET') {
    await ended;
    const body = Buffer.from(JSON.stringify(entry.rawHeaders));
    if (h2) {
      for (const [k, v] of HEADERS_ROUTE_RESPONSE) res.setHeader(k, v);
      res.setHeader('content-length', body.length);
      res.writeHead(200);
    } else {
      // A raw array keeps this exact case and order on the wire.
      const raw = HEADERS_ROUTE_RESPONSE.flatMap(([k, v]) => [k, v]);
      (res as http.ServerResponse).writeHead(200, [...raw, 'Content-Length', String(body.length)]);
    }
    res.end(body);
    return;
  }

  if (seg[1] === 'status' && seg.length === 3) {
    await ended;
    const n = Number(seg[2]);
    if (!/^\d{3}$/.test(seg[2]!) || n < 200 || n > 599) return send(res, 400, 'status must be 200..599\n');
    if (n === 204 || n === 304) {
      res.writeHead(n);
      res.end();
    } else send(res, n, `${n}\n`);
    return;
  }

  if (seg[1] === 'slow' && seg.length === 3) {
    await ended;
    const ms = Number(seg[2]);
    if (!/^\d+$/.test(seg[2]!) || ms > 600_000) return send(res, 400, 'bad delay\n');
    await delay(ms, state);
    if (!state.closing && !res.destroyed) send(res, 200, 'slow\n');
    return;
  }

  if (path === '/hang') return; // never answered; close() destroys the socket

  if (path === '/reset') {
    // Destroy the transport without answering. For H2 that is the whole session: its socket proxy
    // refuses `destroy()` (ERR_HTTP2_NO_SOCKET_MANIPULATION).
    if (h2) req.stream.session?.destroy();
    else req.socket.destroy();
    return;
  }

  if (path === '/reset-stream' && h2) {
    // H2 only: reset just this stream (RST_STREAM INTERNAL_ERROR, RFC 9113 §6.4).
    req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }

  if (path === '/expect' && method === 'POST') {
    await ended;
    send(res, 200, String(entry.bodySize), { 'x-expect-continue': sentContinue ? 'sent' : 'none' });
    return;
  }

  if (path === '/early-hints' && method === 'GET') {
    await ended;
    res.writeEarlyHints({ link: EARLY_HINTS_LINK });
    send(res, 200, 'after hints\n');
    return;
  }

  if (path === '/close' && method === 'GET') {
    await ended;
    // `Connection` is forbidden in H2 (RFC 9113 §8.2.2); there we only answer.
    send(res, 200, 'closing\n', h2 ? {} : { connection: 'close' });
    return;
  }

  if (path === '/gzip' && method === 'GET') {
    await ended;
    const body = gzipSync(Buffer.from(JSON.stringify(GZIP_PAYLOAD)));
    send(res, 200, body, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    return;
  }

  await ended;
  send(res, 404, 'not found\n');
}

// --- servers ------------------------------------------------------------------------------------

/** Start an origin on 127.0.0.1:0 (or [::1]:0). Close it in afterEach with `origin.close()`. */
export async function startOrigin(opts: OriginOptions = {}): Promise<Origin> {
  const state: ServerState = { requests: [], timers: new Set(), closing: false };
  const tlsKind = opts.tls ?? (opts.http2 ? 'valid' : undefined);
  const sockets = new Set<Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  let connections = 0;

  const onRequest = (req: Req, res: Res, sentContinue = false): void => {
    res.on('error', () => {
      // The client went away while we answered; the test sees that on its own side.
    });
    handle(req, res, state, sentContinue).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) send(res, 500, `origin handler failed: ${String(err)}\n`);
      else res.destroy();
    });
  };
  // Node answers `Expect: 100-continue` itself unless 'checkContinue' has a listener; we take it to
  // record that the interim response was sent.
  const onCheckContinue = (req: Req, res: Res): void => {
    res.writeContinue();
    onRequest(req, res, true);
  };

  let server: http.Server | https.Server | http2.Http2SecureServer;
  if (opts.http2) {
    const pair = originCertFor(tlsKind!);
    const s = http2.createSecureServer({ key: pair.key, cert: pair.cert, allowHTTP1: true });
    s.on('request', (req, res) => onRequest(req, res));
    s.on('checkContinue', (req, res) => onCheckContinue(req, res));
    s.on('session', (session) => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
      session.on('error', () => {
        // Session torn down by a test (reset route, close()); nothing to record.
      });
    });
    server = s;
  } else if (tlsKind) {
    const pair = originCertFor(tlsKind);
    const s = https.createServer({ key: pair.key, cert: pair.cert });
    s.on('request', (req, res) => onRequest(req, res));
    s.on('checkContinue', (req, res) => onCheckContinue(req, res));
    server = s;
  } else {
    const s = http.createServer();
    s.on('request', (req, res) => onRequest(req, res));
    s.on('checkContinue', (req, res) => onCheckContinue(req, res));
    server = s;
  }

  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {
      // Resets from clients are part of the tests; the socket closes on its own.
    });
  });
  server.on('tlsClientError', () => {
    // Clients that reject our certificate (expired, wrong-host …) abort the handshake: expected.
  });
  server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());

  const host = opts.host ?? '127.0.0.1';
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  let closed: Promise<void> | null = null;
  return {
    port,
    url: host === '::1' ? `${tlsKind ? 'https' : 'http'}://[::1]:${port}` : tlsKind ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
    requests: state.requests,
    get connections() {
      return connections;
    },
    server,
    close() {
      if (closed) return closed;
      state.closing = true;
      for (const t of state.timers) clearTimeout(t);
      state.timers.clear();
      closed = new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
