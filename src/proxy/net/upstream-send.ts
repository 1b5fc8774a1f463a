import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import type { IncomingMessage, ClientRequest as NodeClientRequest } from 'node:http';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { hostHeader } from '../core/authority.js';
import type { Flow, HeaderPairs, HttpVersion } from '../core/flow.js';
import { pairsFromRaw, rawFromPairs, stripHopByHop, hasHeader } from '../core/headers.js';
import { ProxyError, classifyUpstreamError } from '../core/errors.js';
import { h1FieldsFromH2, h2RequestHeaders, pairsFromH2Headers, h2FieldsFrom } from '../core/h2-translate.js';
import { fixBodyFraming } from '../core/edits.js';
import type { ExchangeEnv } from './exchange.js';

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
}

/** Forward over an HTTP/1.1 keep-alive pool. */
export function sendH1(x: UpstreamSink): NodeClientRequest {
  const { env, flow } = x;
  const r = flow.request;
  let out: HeaderPairs;
  if (x.clientIsH2) {
    out = h1FieldsFromH2(stripHopByHop(r.headers, { keepTeTrailers: true }), x.authority);
    // An HTTP/2 request body has no length unless the client said so: frame it chunked.
    if (!hasHeader(out, 'content-length') && !x.noBody()) out.push(['transfer-encoding', 'chunked']);
  } else {
    out = stripHopByHop(r.headers);
    // Node frames bodies itself; an upload that arrived chunked must go out chunked (whatever
    // the method), so say so explicitly.
    if (x.clientChunked) out.push(['Transfer-Encoding', 'chunked']);
  }
  if (Buffer.isBuffer(x.body)) out = fixBodyFraming(out, x.body.length);
  // Upstream mode: plain HTTP goes to the parent in absolute form (RFC 9112 §3.2.2) over a pool of
  // connections to it; HTTPS tunnels through it inside the https agent.
  const parent = env.pool.parent;
  const viaParent = parent !== null && r.scheme === 'http';
  const target = viaParent ? `http://${hostHeader('http', r.host, r.port)}${r.path.startsWith('/') ? r.path : `/${r.path}`}` : r.path;
  if (viaParent && parent.authorization) out = [...out, ['Proxy-Authorization', parent.authorization]];
  const upReq: NodeClientRequest = (r.scheme === 'https' ? https.request : http.request)({
    host: viaParent ? parent.host : r.host,
    port: viaParent ? parent.port : r.port,
    method: r.method,
    path: target,
    headers: rawFromPairs(out) as unknown as http.OutgoingHttpHeaders,
    agent: env.pool.agentFor(r.scheme),
    setHost: false,
  });
  let reached = false;
  upReq.on('socket', (socket) => {
    flow.server.address = socket.remoteAddress ?? null;
    const marks = parent?.takeMarks(socket);
    if (marks) {
      // A fresh tunnel through the parent, made before the agent handed it over.
      const t0 = performance.now() - x.now();
      flow.timings.upstreamConnect = marks.tunnelAt - t0;
      if (marks.secureAt !== null) flow.timings.upstreamTls = marks.secureAt - t0;
    }
    if (!socket.connecting) {
      reached = true;
      return; // a pooled connection, or one made ready by the parent tunnel
    }
    const connectTimer = setTimeout(() => upReq.destroy(new ProxyError('UPSTREAM_TIMEOUT', `could not connect within ${env.opts.connectTimeoutMs} ms`)), env.opts.connectTimeoutMs);
    socket.once('connect', () => {
      reached = true;
      flow.timings.upstreamConnect = x.now();
      flow.server.address = socket.remoteAddress ?? null;
      if (r.scheme === 'http') clearTimeout(connectTimer);
    });
    socket.once('secureConnect', () => {
      clearTimeout(connectTimer);
      flow.timings.upstreamTls = x.now();
    });
    socket.once('close', () => clearTimeout(connectTimer));
  });
  upReq.on('error', (err) => x.onError(viaParent && !reached ? parent.unreachable(err) : classifyUpstreamError(err)));
  upReq.on('continue', () => x.onContinue());
  upReq.on('information', (info) => {
    if (info.statusCode === 103) x.onEarlyHints(pairsFromRaw(info.rawHeaders));
  });
  upReq.on('response', (upRes: IncomingMessage) => {
    if (viaParent && upRes.statusCode === 407) {
      // The parent wants credentials of its own: relayed, it would look like proxyctl asking the
      // client for them. Say which hop refused instead.
      upRes.resume();
      x.onError(parent.refused(407, upRes.statusMessage ?? '', `${r.method} ${target}`));
      return;
    }
    x.onHead({
      status: upRes.statusCode ?? 502,
      statusText: upRes.statusMessage ?? '',
      httpVersion: upRes.httpVersion === '1.0' ? '1.0' : '1.1',
      headers: pairsFromRaw(upRes.rawHeaders),
      body: upRes,
      trailers: () => (upRes.rawTrailers.length ? pairsFromRaw(upRes.rawTrailers) : null),
      tls: (upRes.socket as TLSSocket).encrypted ? (upRes.socket as TLSSocket) : null,
    });
    upRes.on('aborted', () => x.onError(new ProxyError('UPSTREAM_RESET', 'the upstream server closed the connection in the middle of the response body')));
  });
  x.pipeBody(upReq, (trailers) => upReq.addTrailers(trailers));
  return upReq;
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
