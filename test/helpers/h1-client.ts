/**
 * Test harness for the upstream HTTP/1.1 client (src/proxy/net/h1-client): raw origins on
 * 127.0.0.1 that record the exact bytes of every request on every connection and answer with
 * exact bytes, and a driver that sends one request through an H1Client and records what its
 * handlers saw. Everything made here is closed by `closeAll()` (call it in afterEach).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { HeaderPairs } from '../../src/proxy/core/flow.js';
import { makeLookup } from '../../src/proxy/net/upstream.js';
import { H1Client, type H1ClientOptions, type H1Origin } from '../../src/proxy/net/h1-client/pool.js';
import type { DialMarks } from '../../src/proxy/net/h1-client/connection.js';
import type { H1RequestSpec, UpstreamH1Request } from '../../src/proxy/net/h1-client/request.js';
import type { ResponseBody } from '../../src/proxy/net/h1-client/response-body.js';
import type { ResponseHead } from '../../src/proxy/net/h1-client/response-parser.js';
import { originCa, originCerts } from './origin-certs.js';
import { withTimeout } from './wait.js';

const CRLF = Buffer.from('\r\n');
const CRLF2 = Buffer.from('\r\n\r\n');

/** One request as a raw origin read it off the wire. */
export interface RawRequest {
  method: string;
  target: string;
  /** Fields in wire order and case. */
  headers: HeaderPairs;
  /** The decoded body (chunks joined). */
  body: Buffer;
  trailers: HeaderPairs;
  /** Every byte of the request exactly as received: head, framing, body, trailers. */
  raw: Buffer;
  /** 1-based position of this request on its connection. */
  index: number;
}

/** One TCP (or TLS) connection a raw origin accepted. */
export class RawConn {
  /** Every byte received on this connection. */
  received = Buffer.alloc(0);
  readonly requests: RawRequest[] = [];
  closed = false;
  /** For TLS: whether the handshake resumed a session (read when accepted, while it can be). */
  readonly sessionReused: boolean | null;
  private pending = Buffer.alloc(0);
  private headSeen = false;

  constructor(
    readonly socket: net.Socket,
    private readonly origin: RawOrigin,
  ) {
    this.sessionReused = socket instanceof tls.TLSSocket ? socket.isSessionReused() : null;
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.pending = Buffer.concat([this.pending, chunk]);
      this.extract();
    });
    socket.on('error', () => {
      // The client resetting is part of several tests; `closed` records it.
    });
    socket.on('close', () => (this.closed = true));
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Answer `status` with `body` framed by Content-Length, plus `extra` raw field lines. */
  reply(body = 'ok', extra: string[] = [], status = '200 OK'): void {
    this.write(`HTTP/1.1 ${status}\r\n${extra.map((l) => `${l}\r\n`).join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  private extract(): void {
    for (;;) {
      const headEnd = this.pending.indexOf(CRLF2);
      if (headEnd < 0) return;
      const lines = this.pending.toString('latin1', 0, headEnd).split('\r\n');
      const [method = '', target = ''] = lines[0]!.split(' ');
      const headers: HeaderPairs = lines.slice(1).map((l) => {
        const i = l.indexOf(':');
        return [l.slice(0, i), l.slice(i + 1).trim()];
      });
      const partial = { method, target, headers, index: this.requests.length + 1 };
      if (!this.headSeen) {
        this.headSeen = true;
        this.origin.onHead?.(partial, this);
      }
      const framed = frameBody(this.pending, headEnd + 4, headers);
      if (!framed) return;
      const raw = Buffer.from(this.pending.subarray(0, framed.end));
      this.pending = this.pending.subarray(framed.end);
      this.headSeen = false;
      const req: RawRequest = { ...partial, body: framed.body, trailers: framed.trailers, raw };
      this.requests.push(req);
      this.origin.requests.push(req);
      this.origin.handler(req, this);
    }
  }
}

/** Where the body of a request starting at 0 ends (null: not all here yet). */
function frameBody(buf: Buffer, start: number, headers: HeaderPairs): { end: number; body: Buffer; trailers: HeaderPairs } | null {
  const field = (name: string) => headers.find(([k]) => k.toLowerCase() === name)?.[1];
  const te = field('transfer-encoding');
  if (te && /chunked\s*$/i.test(te)) {
    const parts: Buffer[] = [];
    let p = start;
    for (;;) {
      const eol = buf.indexOf(CRLF, p);
      if (eol < 0) return null;
      const size = parseInt(buf.toString('latin1', p, eol).split(';')[0]!.trim(), 16);
      p = eol + 2;
      if (size === 0) {
        if (buf.length < p + 2) return null;
        if (buf[p] === 13 && buf[p + 1] === 10) return { end: p + 2, body: Buffer.concat(parts), trailers: [] };
        const end = buf.indexOf(CRLF2, p);
        if (end < 0) return null;
        const trailers: HeaderPairs = buf
          .toString('latin1', p, end)
          .split('\r\n')
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]);
        return { end: end + 4, body: Buffer.concat(parts), trailers };
      }
      if (buf.length < p + size + 2) return null;
      parts.push(buf.subarray(p, p + size));
      p += size + 2;
    }
  }
  const length = Number(field('content-length') ?? 0);
  if (buf.length < start + length) return null;
  return { end: start + length, body: Buffer.from(buf.subarray(start, start + length)), trailers: [] };
}

export type RawHandler = (req: RawRequest, conn: RawConn) => void;

/** A scripted origin: plain TCP, or TLS with the `valid` origin leaf (localhost, 127.0.0.1). */
export class RawOrigin {
  readonly connections: RawConn[] = [];
  readonly requests: RawRequest[] = [];
  /** Called once a request's head is complete, before its body may be. */
  onHead: ((req: Omit<RawRequest, 'body' | 'trailers' | 'raw'>, conn: RawConn) => void) | null = null;
  port = 0;

  private constructor(
    readonly server: net.Server,
    public handler: RawHandler,
  ) {}

  static async start(handler: RawHandler = (_req, conn) => conn.reply(), opts: { tls?: boolean } = {}): Promise<RawOrigin> {
    let origin: RawOrigin;
    const accept = (socket: net.Socket) => origin.connections.push(new RawConn(socket, origin));
    const server = opts.tls
      ? tls.createServer({ cert: originCerts.valid.cert, key: originCerts.valid.key, ALPNProtocols: ['http/1.1'] }, accept)
      : net.createServer(accept);
    origin = new RawOrigin(server, handler);
    track(origin);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    origin.port = (server.address() as net.AddressInfo).port;
    return origin;
  }

  /** Connections still open (as the origin sees them). */
  get open(): number {
    return this.connections.filter((c) => !c.closed).length;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const closers: Array<() => unknown> = [];

function track(item: { close(): unknown } | { destroy(): unknown }): void {
  closers.push(() => ('close' in item ? item.close() : item.destroy()));
}

/** Track anything else a test opens (servers, sockets) for `closeAll()`. */
export function onCleanup(step: () => unknown): void {
  closers.push(step);
}

/** Close every client, origin and socket made since the last call, newest first. */
export async function closeAll(): Promise<void> {
  for (const step of closers.splice(0).reverse()) {
    try {
      await step();
    } catch {
      // Already closed: what matters was asserted.
    }
  }
}

/** Options of a test client: loopback only, trusting the origin test CA. */
export function makeClient(overrides: Partial<H1ClientOptions> = {}): H1Client {
  const client = new H1Client({
    lookup: makeLookup(new Map([['*', '127.0.0.1']])) as unknown as net.LookupFunction,
    connectTimeoutMs: 5000,
    maxHeaderBytes: 16 * 1024,
    maxIdlePerOrigin: 8,
    idleTimeoutMs: 30_000,
    rejectUnauthorized: true,
    ca: [originCa.cert],
    parent: null,
    ...overrides,
  });
  track(client);
  return client;
}

export const httpOrigin = (port: number): H1Origin => ({ scheme: 'http', host: '127.0.0.1', port, servername: '127.0.0.1' });
export const httpsOrigin = (port: number, servername = 'localhost'): H1Origin => ({ scheme: 'https', host: '127.0.0.1', port, servername });

/** A GET (or other) spec with sensible defaults. */
export function spec(overrides: Partial<H1RequestSpec> = {}): H1RequestSpec {
  return { method: 'GET', target: '/', headers: [['Host', 'origin.test']], body: 'none', chunked: false, retryable: true, ...overrides };
}

export type Phase = 'connect' | 'response' | 'body';

/** What one request's handlers saw, in order. */
export interface Sent {
  req: UpstreamH1Request;
  /** 'connected', 'info 103', 'head 200', 'ended', 'failed body ECONNRESET' … */
  log: string[];
  sockets: net.Socket[];
  /** Per connection that carried the request: whether its TLS handshake resumed a session (null: plain). */
  tlsResumed: Array<boolean | null>;
  marks: Array<DialMarks | null>;
  informational: ResponseHead[];
  head: Promise<{ head: ResponseHead; body: ResponseBody; socket: net.Socket }>;
  ended: Promise<HeaderPairs | null>;
  failed: Promise<{ err: Error & { code?: string }; phase: Phase }>;
  /** The body bytes read so far (only with `read: 'auto'`). */
  chunks: Buffer[];
}

/**
 * Send through `client`. With `read: 'auto'` the body is read as it comes (from within the head
 * handler, like the proxy's exchange does); with 'manual' the test reads it.
 */
export function send(client: H1Client, origin: H1Origin, s: H1RequestSpec, opts: { read?: 'auto' | 'manual' } = {}): Sent {
  const log: string[] = [];
  const chunks: Buffer[] = [];
  const sockets: net.Socket[] = [];
  const tlsResumed: Array<boolean | null> = [];
  const marks: Array<DialMarks | null> = [];
  const informational: ResponseHead[] = [];
  let onHead!: (v: { head: ResponseHead; body: ResponseBody; socket: net.Socket }) => void;
  let onEnded!: (t: HeaderPairs | null) => void;
  let onFailed!: (v: { err: Error; phase: Phase }) => void;
  const head = new Promise<{ head: ResponseHead; body: ResponseBody; socket: net.Socket }>((r) => (onHead = r));
  const ended = new Promise<HeaderPairs | null>((r) => (onEnded = r));
  const failed = new Promise<{ err: Error; phase: Phase }>((r) => (onFailed = r));
  const req = client.request(origin, s, {
    connected: (socket, m) => {
      log.push('connected');
      sockets.push(socket);
      tlsResumed.push(socket instanceof tls.TLSSocket ? socket.isSessionReused() : null);
      marks.push(m);
    },
    informational: (h) => {
      log.push(`info ${h.status}`);
      informational.push(h);
    },
    head: (h, body, socket) => {
      log.push(`head ${h.status}`);
      if ((opts.read ?? 'auto') === 'auto') {
        body.on('data', (c: Buffer) => chunks.push(c));
        body.on('error', (err) => log.push(`body error ${(err as { code?: string }).code ?? err.message}`));
      }
      onHead({ head: h, body, socket });
    },
    ended: (t) => {
      log.push('ended');
      onEnded(t);
    },
    failed: (err, phase) => {
      log.push(`failed ${phase} ${(err as { code?: string }).code ?? err.message}`);
      onFailed({ err, phase });
    },
  });
  return { req, log, sockets, tlsResumed, marks, informational, head, ended, failed, chunks };
}

/** The whole response of an auto-read request; rejects (naming the failure) if it failed first. */
export async function response(sent: Sent, timeoutMs = 5000): Promise<{ status: number; headers: HeaderPairs; body: string; trailers: HeaderPairs | null }> {
  const outcome = await withTimeout(
    Promise.race([
      (async () => {
        const { head, body } = await sent.head;
        const trailers = await sent.ended;
        // 'end' follows push(null) asynchronously; the body is whole once it fired.
        if (!body.readableEnded) await new Promise<void>((resolve, reject) => {
          body.once('end', resolve);
          body.once('close', () => (body.readableEnded ? resolve() : reject(new Error(`body closed before its end; log: ${sent.log.join(', ')}`))));
        });
        return { status: head.status, headers: head.headers, body: Buffer.concat(sent.chunks).toString('latin1'), trailers };
      })(),
      sent.failed.then(({ err, phase }) => {
        throw new Error(`request failed in phase ${phase}: ${err.message} (${err.code ?? 'no code'}); log: ${sent.log.join(', ')}`);
      }),
    ]),
    timeoutMs,
    `the response (log so far: ${sent.log.join(', ')})`,
  );
  return outcome;
}

/** Resolve with a request's failure, or reject if it does not fail in time. */
export function failure(sent: Sent, timeoutMs = 5000): Promise<{ err: Error & { code?: string }; phase: Phase }> {
  return withTimeout(sent.failed, timeoutMs, `the request to fail (log so far: ${sent.log.join(', ')})`);
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
