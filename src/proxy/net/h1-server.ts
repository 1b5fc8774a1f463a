import http from 'node:http';
import type net from 'node:net';
import { emptyBody, type Flow } from '../core/flow.js';
import { parseAbsoluteTarget, parseAuthority } from '../core/authority.js';
import { errorPage, ProxyError } from '../core/errors.js';
import type { FlowErrorCode } from '../core/flow.js';
import { Exchange, newHttpFlow, type ExchangeEnv, type RequestTarget } from './exchange.js';
import { clientInfoOf } from './client-info.js';
import { kClientAddr, kTarget, type TunnelTarget } from './socket-facts.js';
import { hasHook, runConnectHooks } from '../core/pipeline.js';
import { RuleContext } from './rule-context.js';
import { closingResponse } from './raw-response.js';
import { recordRefusedConnect } from './refused-connect.js';
import { selfPage } from './self-page.js';
import { handleUpgrade } from './websocket.js';
import { h1ReverseFacts, serveReverse, upgradeReverse } from '../reverse/serve.js';
import { H1Server, type ClientError } from './h1-server/server.js';
import type { H1IncomingRequest } from './h1-server/incoming.js';
import type { H1ServerResponse } from './h1-server/outgoing.js';

export interface H1Handlers {
  /** A CONNECT was accepted: continue with the tunnel socket (re-enter the listener). */
  onTunnel(socket: net.Socket, target: TunnelTarget, head: Buffer, httpVersion: string): void;
  /** Will a tunnel to this target pass through untouched (an ignored host)? */
  isPassthrough(target: TunnelTarget): boolean;
  /** Is this authority the proxy itself (a loop)? */
  isSelf(host: string, port: number): boolean;
  /** The port actually listened on. */
  port(): number;
}

/**
 * The HTTP/1.x adapter: our own HTTP/1.x server (./h1-server/) that the listener hands connections
 * to. It turns requests into exchanges, answers CONNECT, and maps parser errors to 400/431/408.
 */
export function createH1Server(env: ExchangeEnv, handlers: H1Handlers): H1Server {
  const { opts } = env;
  const onRequest = (req: H1IncomingRequest, res: H1ServerResponse) => {
    // Reverse mode: every request (origin-form, plain or TLS) goes to a backend group.
    const reverse = env.deps.reverse;
    if (reverse) {
      serveReverse(env, reverse, req, res, h1ReverseFacts(req, handlers.port()));
      return;
    }
    const target = resolveTarget(req, handlers);
    if (target === null || 'self' in target) {
      // Asked of the proxy itself, or unroutable: answer locally, still as a flow.
      const path = target ? target.self : (req.url ?? '/');
      const ex = new Exchange(env, req, res, { scheme: 'http', host: 'proxyctl', port: handlers.port(), path }, clientInfoOf(req.socket));
      env.emitter.start(ex.flow);
      ex.respondLocally(target ? selfPage(path, env.deps.certificates.certPem) : badTargetResponse(req.url ?? ''));
      return;
    }
    const ex = new Exchange(env, req, res, target, clientInfoOf(req.socket));
    // `Expect: 100-continue` is forwarded, and the origin's 100 relayed (RFC 9110 §10.1.1).
    ex.run().catch((err: unknown) => ex.fail(err instanceof ProxyError ? err : new ProxyError('INTERNAL', err instanceof Error ? err.message : String(err), { cause: err })));
  };
  const onUpgrade = (req: H1IncomingRequest, socket: net.Socket, head: Buffer) => {
    const reverse = env.deps.reverse;
    if (reverse) {
      upgradeReverse(env, reverse, req, socket, head, h1ReverseFacts(req, handlers.port()));
      return;
    }
    const target = resolveTarget(req, handlers);
    if (target === null || 'self' in target) {
      socket.end(closingResponse(400, [['Content-Type', 'text/plain']], 'proxyctl: cannot route this upgrade request\n'));
      return;
    }
    handleUpgrade(env, req, socket, head, target, clientInfoOf(socket));
  };

  const onConnect = (req: H1IncomingRequest, socket: net.Socket, head: Buffer) => {
    if (env.deps.reverse) {
      // A reverse proxy is the server to its clients, not a way through to others.
      socket.end(closingResponse(405, [['Content-Type', 'text/plain'], ['Allow', 'GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH']], 'proxyctl runs in reverse mode: CONNECT is not accepted\n'));
      recordClientError(env, socket, 'BAD_REQUEST', `CONNECT ${req.url ?? ''} refused: reverse mode`, `CONNECT ${req.url ?? ''}`, 405);
      return;
    }
    const auth = parseAuthority(req.url ?? '', null);
    if (!auth) {
      socket.end(closingResponse(400, [['Content-Type', 'text/plain']], 'CONNECT needs host:port\n'));
      recordClientError(env, socket, 'BAD_REQUEST', `CONNECT target is not host:port: ${JSON.stringify(req.url)}`, `CONNECT ${req.url ?? ''}`, 400);
      return;
    }
    const addons = env.deps.addons();
    if (!hasHook(addons, 'connect')) {
      handlers.onTunnel(socket, auth, head, req.httpVersion);
      return;
    }
    const client = clientInfoOf(socket);
    const request = { host: auth.host, port: auth.port, headers: req.headerPairs, client, passthrough: handlers.isPassthrough(auth) };
    void runConnectHooks(addons, request, new RuleContext(env.deps.bus, undefined)).then((decision) => {
      if (socket.destroyed) return;
      if (decision.action === 'continue') {
        const facts = socket[kClientAddr];
        if (decision.user !== undefined && facts) facts.user = decision.user;
        handlers.onTunnel(socket, auth, head, req.httpVersion);
        return;
      }
      // Refused: the answer goes on the wire and becomes a CONNECT flow (so a 407 shows in the list).
      const headers = request.headers.filter(([k]) => k.toLowerCase() !== 'proxy-authorization');
      recordRefusedConnect(env, socket, client, auth, headers, decision, (status, h, body, statusText) => socket.end(closingResponse(status, h, body, statusText)));
    });
  };

  const onClientError = (err: ClientError, socket: net.Socket) => {
    const code = err.code ?? '';
    if (code === 'ECONNRESET' || code === 'EPIPE' || !socket.writable) {
      socket.destroy();
      return;
    }
    let status = 400;
    let flowCode: FlowErrorCode = 'BAD_REQUEST';
    let message = `malformed request (${code || err.message})`;
    if (code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      flowCode = 'HEADERS_TOO_LARGE';
      message = `request headers exceed ${opts.maxHeaderBytes} bytes`;
    } else if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408;
      flowCode = 'CLIENT_TIMEOUT';
      message = `request headers not received within ${opts.headersTimeoutMs} ms`;
    }
    const page = errorPage({ code: flowCode, message }, null);
    const body = Buffer.from(page.body);
    socket.end(closingResponse(status, [['Content-Type', page.contentType]], body));
    recordClientError(env, socket, flowCode, message, err.rawPacket ? requestLineOf(err.rawPacket) : null, status);
  };
  return new H1Server(
    { maxHeaderBytes: opts.maxHeaderBytes, headersTimeoutMs: opts.headersTimeoutMs, idleTimeoutMs: opts.clientIdleTimeoutMs },
    { request: onRequest, upgrade: onUpgrade, connect: onConnect, clientError: onClientError },
  );
}

export function resolveTarget(req: H1IncomingRequest, handlers: H1Handlers): RequestTarget | { self: string } | null {
  const url = req.url ?? '/';
  const abs = parseAbsoluteTarget(url);
  if (abs) return handlers.isSelf(abs.host, abs.port) ? { self: abs.path } : abs;
  const tunnel = req.socket[kTarget];
  if (tunnel) {
    const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
    return { scheme, host: tunnel.host, port: tunnel.port, path: url.startsWith('/') ? url : `/${url}` };
  }
  return url.startsWith('/') ? { self: url } : null;
}

function badTargetResponse(url: string) {
  return { status: 400, headers: [['Content-Type', 'text/plain; charset=utf-8']] as Array<[string, string]>, body: `proxyctl: cannot route request target ${JSON.stringify(url)}\n` };
}

/** First line of a raw request, when it looks like one (for naming an error flow). */
function requestLineOf(raw: Buffer): string | null {
  const line = raw.subarray(0, 256).toString('latin1').split('\r\n', 1)[0] ?? '';
  return /^[A-Z]{3,10} \S+/.test(line) ? line : null;
}

/** A request that never became an exchange still becomes a flow, with its error. */
function recordClientError(env: ExchangeEnv, socket: net.Socket, code: FlowErrorCode, message: string, requestLine: string | null, status: number): void {
  const [method = 'INVALID', target = '/'] = requestLine ? requestLine.split(' ') : [];
  const abs = parseAbsoluteTarget(target);
  const info = clientInfoOf(socket);
  const flow: Flow = newHttpFlow(env, info, {
    method,
    scheme: abs?.scheme ?? 'http',
    host: abs?.host ?? socket[kTarget]?.host ?? 'invalid',
    port: abs?.port ?? socket[kTarget]?.port ?? 0,
    path: abs?.path ?? (target.startsWith('/') ? target : '/'),
    httpVersion: '1.1',
    headers: [],
    trailers: null,
    body: emptyBody(),
  });
  flow.response = { status, statusText: http.STATUS_CODES[status] ?? '', httpVersion: '1.1', headers: [], trailers: null, body: emptyBody() };
  env.emitter.start(flow);
  env.emitter.end(flow, { code, message });
}
