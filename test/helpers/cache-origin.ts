/**
 * A scriptable origin for cache tests (issue 6): HTTP/1.1 plain or over TLS, or HTTP/2 with
 * HTTP/1.1 fallback by ALPN (TLS with the `valid` origin leaf, chained to the origin test CA the
 * proxy trusts upstream), on 127.0.0.1, port 0. Each test
 * scripts the answers per path (status, Cache-Control, ETag, Vary, a 304 when `If-None-Match`
 * matches …) and reads back exactly what reached the origin, so "served from cache" is proved by
 * the origin not seeing the request.
 *
 * `close()` destroys every connection: after it the port refuses connections, which is how a test
 * makes the origin unreachable for the stale-on-error cases.
 */
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { originCerts } from './origin-certs.js';

/** One request as the origin received it. */
export interface SeenRequest {
  method: string;
  /** Path and query as received (origin-form). */
  path: string;
  /** Node's lowercased header record (repeated fields joined as Node does). */
  headers: http.IncomingHttpHeaders;
  /** `1.1` or `2.0`. */
  httpVersion: string;
  /** The request body, once it ended. */
  body: string;
}

/** What a script answers with. */
export interface Reply {
  /** @default 200 */
  status?: number;
  /** Response fields in order. `Date` is added by Node unless given here. */
  headers?: Array<[string, string]>;
  /** @default '' */
  body?: string;
  /** Send the body in two writes without `Content-Length` (chunked on HTTP/1.1). @default false */
  chunked?: boolean;
}

/**
 * Answers one request. `n` counts the requests to this path so far, this one included (1 for the
 * first), so bodies can say which origin response a client got.
 */
export type Script = (req: SeenRequest, n: number) => Reply;

export interface CacheOrigin {
  port: number;
  /** `http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS (the leaf names localhost). */
  url: string;
  /** Every request received, in arrival order. */
  readonly requests: SeenRequest[];
  /** Script the answers for a path (exact match on the path without the query). */
  route(path: string, script: Script): void;
  /** Requests received for a path (without the query), optionally of one method. */
  seen(path: string, method?: string): SeenRequest[];
  /** Stop listening and destroy every connection. Idempotent. */
  close(): Promise<void>;
}

export interface CacheOriginOptions {
  /** Serve HTTPS (leaf for localhost). */
  tls?: boolean;
  /** Serve HTTP/2 by ALPN, HTTP/1.1 as fallback. Implies `tls`. */
  http2?: boolean;
}

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

/** Start a scripted origin; close it in afterEach. Unscripted paths get a `404` with `no-store`. */
export async function startCacheOrigin(opts: CacheOriginOptions = {}): Promise<CacheOrigin> {
  const tls = opts.tls === true || opts.http2 === true;
  const requests: SeenRequest[] = [];
  const scripts = new Map<string, Script>();
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const pathOf = (url: string) => url.split('?')[0]!;

  const sessions = new Set<http2.ServerHttp2Session>();
  const onRequest = (req: Req, res: Res): void => {
    const path = req.url ?? '/';
    const seen: SeenRequest = { method: req.method ?? '', path, headers: { ...req.headers }, httpVersion: req.httpVersion, body: '' };
    requests.push(seen);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => {
      // The proxy went away mid-request; nothing left to answer.
    });
    req.on('end', () => {
      seen.body = Buffer.concat(chunks).toString('utf8');
      const key = pathOf(path);
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      const script = scripts.get(key);
      const reply: Reply = script ? script(seen, n) : { status: 404, headers: [['Cache-Control', 'no-store']], body: 'no script for this path\n' };
      const status = reply.status ?? 200;
      const body = Buffer.from(reply.body ?? '');
      // An object, not a raw list: the HTTP/2 compatibility API takes only that (H2 lowercases anyway).
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of reply.headers ?? []) {
        const prev = headers[k];
        headers[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
      }
      // A 304 has no body and no length of its own (RFC 9110 §15.4.5).
      if (status !== 304 && status !== 204 && !reply.chunked) headers['Content-Length'] = String(body.length);
      res.writeHead(status, headers);
      if (status === 304 || req.method === 'HEAD') res.end();
      else if (reply.chunked) {
        const half = Math.floor(body.length / 2);
        // The compat response types differ only in overloads; both accept (chunk).
        (res as http.ServerResponse).write(body.subarray(0, half));
        res.end(body.subarray(half));
      } else res.end(body);
    });
  };

  const cert = { key: originCerts.valid.key, cert: originCerts.valid.cert };
  let server: http.Server | https.Server | http2.Http2SecureServer;
  if (opts.http2) {
    const s = http2.createSecureServer({ ...cert, allowHTTP1: true });
    s.on('request', onRequest);
    s.on('session', (session) => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
      session.on('error', () => {
        // Torn down by close() or by the proxy: expected.
      });
    });
    server = s;
  } else {
    const s = tls ? https.createServer(cert) : http.createServer();
    s.on('request', onRequest);
    server = s;
  }
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {
      // Resets when the proxy or close() tears a connection down: expected.
    });
  });
  server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());
  server.on('tlsClientError', () => {
    // A client that gave up mid-handshake: nothing to answer.
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  let closed: Promise<void> | null = null;
  return {
    port,
    url: tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
    requests,
    route(path, script) {
      scripts.set(path, script);
    },
    seen(path, method) {
      return requests.filter((r) => pathOf(r.path) === path && (method === undefined || r.method === method));
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sessions) s.destroy();
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
  };
}
