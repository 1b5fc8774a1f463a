import http from 'node:http';
import http2 from 'node:http2';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { hostHeader, parseAuthority } from '../core/authority.js';
import type { Flow, HeaderPairs, HttpVersion } from '../core/flow.js';
import { stripHopByHop, hasHeader } from '../core/headers.js';
import { ProxyError, classifyUpstreamError } from '../core/errors.js';
import { h1FieldsFromH2, h2RequestHeaders, pairsFromH2Headers, h2FieldsFrom } from '../core/h2-translate.js';
import { fixBodyFraming } from '../core/edits.js';
import type { ExchangeEnv } from './exchange.js';
import type { UpstreamH1Request } from './h1-client/request.js';
import { HttpParseError, isIdempotent } from '../core/http-syntax.js';

/** The response head from either upstream protocol, in one shape. */
export interface UpstreamHead {
  status: number;
  statusText: string;
  httpVersion: HttpVersion;
  headers: HeaderPairs;
  body: Readable;
  /** Trailers, valid once the body ended. */
  trailers: () => HeaderPairs | null;
  tls: TLSSocket | null;
}

/** What the upstream senders need from an exchange, and how they report back to it. */
export interface UpstreamSink {
  env: ExchangeEnv;
  flow: Flow;
  /** Host / :authority towards the origin. */
  authority: string;
  clientIsH2: boolean;
  /** An HTTP/1 client sent its body chunked (without a length). */
  clientChunked: boolean;
  /** A held body (breakpoint) or null/stream to stream the client's. */
  body: Buffer | Readable | null;
  noBody(): boolean;
  now(): number;
  finished(): boolean;
  bodyComplete(): boolean;
  onHead(up: UpstreamHead): void;
  onError(err: ProxyError): void;
  onContinue(): void;
  onEarlyHints(headers: HeaderPairs): void;
  pipeBody(dest: NodeJS.WritableStream, addTrailers: (t: HeaderPairs) => void): void;
  skipBody(): void;
  /** The request went out without a body (HTTP/1.1): the flow records an empty one. */
  noBodySent(): void;
}

/** Methods Node never framed a missing body for; others got `Content-Length: 0` (kept as it was). */
const NO_BODY_BY_DEFAULT = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

/** Forward over the HTTP/1.1 keep-alive client (src/proxy/net/h1-client). */
export function sendH1(x: UpstreamSink): UpstreamH1Request | null {
  const { env, flow } = x;
  const r = flow.request;
  let out: HeaderPairs;
  if (x.clientIsH2) {
    out = h1FieldsFromH2(stripHopByHop(r.headers, { keepTeTrailers: true }), x.authority);
    // An HTTP/2 request body has no length unless the client said so: frame it chunked.
    if (!hasHeader(out, 'content-length') && !x.noBody()) out.push(['transfer-encoding', 'chunked']);
  } else {
    out = stripHopByHop(r.headers);
    // An upload that arrived chunked goes out chunked (whatever the method).
    if (x.clientChunked) out.push(['Transfer-Encoding', 'chunked']);
  }
  let body: Buffer | 'none' | 'stream';
  if (Buffer.isBuffer(x.body)) {
    out = fixBodyFraming(out, x.body.length);
    body = x.body;
  } else body = x.noBody() ? 'none' : 'stream';
  if (body === 'none' && !NO_BODY_BY_DEFAULT.has(r.method) && !hasHeader(out, 'content-length')) out.push(['Content-Length', '0']);
  out.push(['Connection', 'keep-alive']);
  // Upstream mode: plain HTTP goes to the parent in absolute form (RFC 9112 §3.2.2) over a pool of
  // connections to it; https tunnels through it.
  const parent = env.pool.parent;
  const viaParent = parent !== null && r.scheme === 'http';
  const target = viaParent ? `http://${hostHeader('http', r.host, r.port)}${r.path.startsWith('/') ? r.path : `/${r.path}`}` : r.path;
  if (viaParent && parent.authorization) out.push(['Proxy-Authorization', parent.authorization]);
  let trailers: HeaderPairs | null = null;
  let upReq: UpstreamH1Request;
  try {
    upReq = env.pool.h1.request(
      { scheme: r.scheme, host: r.host, port: r.port, servername: parseAuthority(x.authority.trim(), 443)?.host ?? r.host },
      {
        method: r.method,
        target,
        headers: out,
        body,
        chunked: body === 'stream' && isChunked(out),
        // Sent again on a new connection when a reused one was found closed: only what can be resent.
        retryable: body !== 'stream' && isIdempotent(r.method),
      },
      {
        connected: (socket, marks) => {
          flow.server.address = socket.remoteAddress ?? null;
          if (marks) {
            const base = performance.now() - x.now();
            if (marks.connectAt !== null) flow.timings.upstreamConnect = marks.connectAt - base;
            if (marks.secureAt !== null) flow.timings.upstreamTls = marks.secureAt - base;
          }
        },
        informational: (head) => {
          if (head.status === 100) x.onContinue();
          else if (head.status === 103) x.onEarlyHints(head.headers);
        },
        head: (head, resBody, socket) => {
          if (viaParent && head.status === 407) {
            // The parent wants credentials of its own: relayed, it would look like proxyctl asking the
            // client for them. Say which hop refused instead.
            resBody.resume();
            x.onError(parent.refused(407, head.statusText, `${r.method} ${target}`));
            return;
          }
          const tlsSocket = (socket as TLSSocket).encrypted ? (socket as TLSSocket) : null;
          x.onHead({
            status: head.status,
            statusText: head.statusText,
            httpVersion: head.minor === 0 ? '1.0' : '1.1',
            headers: head.headers,
            body: resBody,
            trailers: () => trailers,
            tls: tlsSocket,
          });
        },
        ended: (t) => (trailers = t),
        failed: (err, phase) => {
          if (phase === 'connect') x.onError(viaParent ? parent.unreachable(err) : classifyUpstreamError(err));
          else if (phase === 'body' && !(err instanceof HttpParseError)) x.onError(new ProxyError('UPSTREAM_RESET', 'the upstream server closed the connection in the middle of the response body'));
          else x.onError(classifyUpstreamError(err));
        },
      },
    );
  } catch (err) {
    x.onError(new ProxyError('INTERNAL', `cannot send the request: ${(err as Error).message}`, { cause: err }));
    return null;
  }
  if (body === 'stream') {
    const writer = upReq.bodyWriter();
    x.pipeBody(writer, (t) => writer.addTrailers(t));
  } else if (body === 'none') x.noBodySent();
  return upReq;
}

function isChunked(headers: HeaderPairs): boolean {
  for (const [k, v] of headers) if (k.length === 17 && k.toLowerCase() === 'transfer-encoding' && /chunked\s*$/i.test(v)) return true;
  return false;
}


/** Forward as one stream of the origin's HTTP/2 session. */
export function sendH2(x: UpstreamSink, session: http2.ClientHttp2Session): http2.ClientHttp2Stream | null {
  const { flow } = x;
  const r = flow.request;
  let fields = x.clientIsH2 ? r.headers : stripHopByHop(r.headers, { keepTeTrailers: true });
  if (Buffer.isBuffer(x.body)) fields = fixBodyFraming(fields, x.body.length);
  const headers = h2RequestHeaders(r.method, 'https', x.authority, r.path, fields);
  // Trailers can only follow when the stream waits for them; clients announce them (RFC 9110 §6.6.2).
  const expectTrailers = hasHeader(r.headers, 'trailer');
  let stream: http2.ClientHttp2Stream;
  try {
    stream = session.request(headers, { endStream: x.noBody(), waitForTrailers: expectTrailers });
  } catch (err) {
    x.onError(classifyUpstreamError(err));
    return null;
  }
  const socket = session.socket as TLSSocket;
  flow.server.address = socket.remoteAddress ?? null;
  let trailers: HeaderPairs | null = null;
  let sawResponse = false;
  stream.on('error', (err) => x.onError(classifyUpstreamError(err)));
  stream.on('close', () => {
    if (x.finished()) return;
    if (stream.rstCode && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
      x.onError(new ProxyError('STREAM_RESET', `the upstream server reset the stream (HTTP/2 error code ${stream.rstCode})`));
    } else if (!sawResponse) {
      // The session went away under a stream still waiting (Node ends such a stream with code 0).
      x.onError(new ProxyError('UPSTREAM_RESET', 'the upstream connection closed before a response arrived'));
    } else if (!x.bodyComplete()) {
      x.onError(new ProxyError('UPSTREAM_RESET', 'the upstream connection closed in the middle of the response body'));
    }
  });
  stream.on('trailers', (t) => (trailers = pairsFromH2Headers(t)));
  stream.on('headers', (h) => {
    // 1xx informational heads on HTTP/2 arrive as 'headers'.
    const status = Number(h[':status']);
    if (status === 100) x.onContinue();
    else if (status === 103) x.onEarlyHints(pairsFromH2Headers(h));
  });
  stream.on('response', (h) => {
    sawResponse = true;
    const status = Number(h[':status']);
    x.onHead({ status, statusText: http.STATUS_CODES[status] ?? '', httpVersion: '2', headers: pairsFromH2Headers(h), body: stream, trailers: () => trailers, tls: socket });
  });
  if (expectTrailers) {
    stream.once('wantTrailers', () => {
      const t = flow.request.trailers;
      if (t && t.length) stream.sendTrailers(h2FieldsFrom(t));
      else stream.close();
    });
  }
  if (!x.noBody()) x.pipeBody(stream, () => {});
  else x.skipBody();
  return stream;
}
