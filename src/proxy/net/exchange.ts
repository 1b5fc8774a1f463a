import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse, ClientRequest } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { emptyBody, flowUrl, type Flow, type FlowRequest, type HeaderPairs, type ClientInfo } from '../core/flow.js';
import { pairsFromRaw, rawFromPairs, stripHopByHop, hasHeader } from '../core/headers.js';
import { ProxyError, classifyUpstreamError, errorPage } from '../core/errors.js';
import { BodyCapturer, captureWhole } from '../core/capture.js';
import { runHooks, hasHook, type LocalResponse } from '../core/pipeline.js';
import { hostHeader } from '../core/authority.js';
import type { FlowEmitter } from './flow-emitter.js';
import type { ProxyDeps, ProxyOptions } from './options.js';
import { summarizePeerCertificate, type UpstreamPool } from './upstream.js';

const kCertSummary = Symbol('proxyctl.certSummary');

/** Everything an exchange needs, shared by all exchanges of one proxy. */
export interface ExchangeEnv {
  opts: ProxyOptions;
  deps: ProxyDeps;
  pool: UpstreamPool;
  emitter: FlowEmitter;
  newId: () => string;
}

/** Where the request goes, already resolved from absolute-form, tunnel or Host. */
export interface RequestTarget {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
}

export function newHttpFlow(env: ExchangeEnv, client: ClientInfo, request: FlowRequest): Flow {
  return {
    id: env.newId(),
    kind: 'http',
    phase: 'requesting',
    client,
    server: { host: request.host, port: request.port, address: null, tlsVersion: null, alpn: null, certificate: null },
    request,
    response: null,
    timings: { start: Date.now(), requestHeaders: 0, requestEnd: null, upstreamConnect: null, upstreamTls: null, upstreamSent: null, firstByte: null, responseEnd: null },
    error: null,
    tags: [],
    marked: false,
    websocket: null,
  };
}

/**
 * One HTTP/1.x request/response pair through the proxy: build the flow, run the rules, forward
 * upstream, stream the response back with bounded capture, and turn every failure into a flow
 * error plus (when the client can still get one) an error page.
 */
export class Exchange {
  private readonly t0 = performance.now();
  private upReq: ClientRequest | null = null;
  private timer: NodeJS.Timeout | null = null;
  readonly flow: Flow;

  constructor(
    private readonly env: ExchangeEnv,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    target: RequestTarget,
    client: ClientInfo,
  ) {
    let headers = pairsFromRaw(req.rawHeaders);
    if (!hasHeader(headers, 'host')) headers = [['Host', hostHeader(target.scheme, target.host, target.port)], ...headers];
    this.flow = newHttpFlow(env, client, {
      method: req.method ?? 'GET',
      scheme: target.scheme,
      host: target.host,
      port: target.port,
      path: target.path,
      httpVersion: req.httpVersion === '1.0' ? '1.0' : '1.1',
      headers,
      trailers: null,
      body: emptyBody(),
    });
    res.on('close', this.onClientClose);
  }

  private now(): number {
    return performance.now() - this.t0;
  }

  async run(): Promise<void> {
    const { env, flow } = this;
    env.emitter.start(flow);
    const addons = env.deps.addons();
    if (hasHook(addons, 'requestHeaders')) {
      const decision = await runHooks(addons, 'requestHeaders', flow, {
        log: (level, message) => env.deps.bus.log(level, message, flow.id),
      });
      if (decision.action === 'respond') {
        if (decision.tag) flow.tags.push(decision.tag);
        this.respondLocally(decision.response);
        return;
      }
      if (decision.action === 'drop') {
        if (decision.tag) flow.tags.push(decision.tag);
        this.req.resume();
        this.res.socket?.destroy();
        env.emitter.end(flow);
        return;
      }
    }
    if (this.isFinished()) return; // the client left while rules ran
    this.forward();
  }

  private isFinished(): boolean {
    return this.flow.phase === 'done' || this.flow.phase === 'error';
  }

  private forward(): void {
    const { env, flow, req } = this;
    const r = flow.request;
    flow.phase = 'waiting';
    const hadChunked = req.headers['transfer-encoding'] !== undefined && req.headers['content-length'] === undefined;
    let out: HeaderPairs = stripHopByHop(r.headers);
    // Node frames bodies itself; an upload that arrived chunked must go out chunked (whatever
    // the method), so say so explicitly.
    if (hadChunked) out.push(['Transfer-Encoding', 'chunked']);
    const options: http.RequestOptions = {
      host: r.host,
      port: r.port,
      method: r.method,
      path: r.path,
      headers: rawFromPairs(out) as unknown as http.OutgoingHttpHeaders,
      agent: env.pool.agentFor(r.scheme),
      setHost: false,
    };
    const upReq = (r.scheme === 'https' ? https.request : http.request)(options);
    this.upReq = upReq;
    flow.timings.upstreamSent = this.now();
    this.armTimer(env.opts.upstreamTimeoutMs, `no response within ${env.opts.upstreamTimeoutMs} ms`);

    upReq.on('socket', (socket) => {
      flow.server.address = socket.remoteAddress ?? null;
      if (socket.connecting) {
        const connectTimer = setTimeout(() => upReq.destroy(new ProxyError('UPSTREAM_TIMEOUT', `could not connect within ${env.opts.connectTimeoutMs} ms`)), env.opts.connectTimeoutMs);
        socket.once('connect', () => {
          flow.timings.upstreamConnect = this.now() - (flow.timings.upstreamSent ?? 0);
          flow.server.address = socket.remoteAddress ?? null;
          if (r.scheme === 'http') clearTimeout(connectTimer);
        });
        socket.once('secureConnect', () => {
          clearTimeout(connectTimer);
          flow.timings.upstreamTls = this.now() - (flow.timings.upstreamSent ?? 0) - (flow.timings.upstreamConnect ?? 0);
        });
        socket.once('close', () => clearTimeout(connectTimer));
      }
    });
    upReq.on('error', (err) => this.fail(classifyUpstreamError(err)));
    upReq.on('continue', () => this.res.writeContinue());
    upReq.on('information', (info) => {
      if (info.statusCode === 103) {
        const hints: Record<string, string | string[]> = {};
        for (const [k, v] of pairsFromRaw(info.rawHeaders)) {
          const key = k.toLowerCase();
          const prev = hints[key];
          hints[key] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
        }
        if (hints['link'] !== undefined) this.res.writeEarlyHints(hints as { link: string | string[] });
      }
    });
    upReq.on('response', (upRes) => this.onResponse(upRes));

    const capture = new BodyCapturer(r.body, env.opts.maxBodyBytes);
    req.on('data', (chunk: Buffer) => capture.push(chunk));
    // Registered before pipe() so trailers are added before pipe ends the upstream request.
    req.on('end', () => {
      flow.timings.requestEnd = this.now();
      capture.finish('complete');
      if (req.rawTrailers.length) {
        r.trailers = pairsFromRaw(req.rawTrailers);
        upReq.addTrailers(r.trailers);
      }
    });
    req.pipe(upReq);
  }

  private onResponse(upRes: IncomingMessage): void {
    const { env, flow, res } = this;
    this.clearTimer();
    flow.timings.firstByte = this.now();
    const socket = upRes.socket as (TLSSocket & { [kCertSummary]?: string | null }) | null;
    if (socket && (socket as TLSSocket).encrypted) {
      flow.server.tlsVersion = socket.getProtocol() ?? null;
      flow.server.alpn = socket.alpnProtocol || null;
      if (socket[kCertSummary] === undefined) socket[kCertSummary] = summarizePeerCertificate(socket);
      flow.server.certificate = socket[kCertSummary] ?? null;
    }
    const response = {
      status: upRes.statusCode ?? 502,
      statusText: upRes.statusMessage ?? '',
      httpVersion: upRes.httpVersion === '1.0' ? ('1.0' as const) : ('1.1' as const),
      headers: pairsFromRaw(upRes.rawHeaders),
      trailers: null as HeaderPairs | null,
      body: emptyBody(),
    };
    flow.response = response;
    flow.phase = 'responding';
    env.emitter.update(flow);
    if (this.isFinished()) {
      upRes.resume();
      return;
    }
    const out = stripHopByHop(response.headers);
    const upstreamChunked = upRes.headers['transfer-encoding'] !== undefined;
    try {
      res.writeHead(response.status, response.statusText, rawFromPairs(out) as unknown as http.OutgoingHttpHeaders);
    } catch (err) {
      upRes.resume();
      this.fail(new ProxyError('UPSTREAM_PROTOCOL', `cannot relay the response head: ${(err as Error).message}`));
      return;
    }
    const capture = new BodyCapturer(response.body, env.opts.maxBodyBytes);
    upRes.on('data', (chunk: Buffer) => capture.push(chunk));
    upRes.on('end', () => {
      capture.finish('complete');
      if (upRes.rawTrailers.length) {
        response.trailers = pairsFromRaw(upRes.rawTrailers);
        if (upstreamChunked || !hasHeader(out, 'content-length')) res.addTrailers(response.trailers);
      }
    });
    upRes.on('aborted', () => {
      capture.finish('aborted');
      this.fail(new ProxyError('UPSTREAM_RESET', 'the upstream server closed the connection in the middle of the response body'));
    });
    upRes.on('error', () => {
      /* reported through 'aborted' or the request's 'error'; a listener keeps it from throwing */
    });
    res.once('finish', () => {
      if (this.isFinished()) return;
      flow.timings.responseEnd = this.now();
      env.emitter.end(flow);
    });
    upRes.pipe(res);
  }

  /** Answer the client ourselves (rule decision or error page). */
  respondLocally(local: LocalResponse): void {
    const { env, flow, res } = this;
    const body = typeof local.body === 'string' ? Buffer.from(local.body) : local.body;
    flow.response = {
      status: local.status,
      statusText: local.statusText ?? http.STATUS_CODES[local.status] ?? '',
      httpVersion: flow.request.httpVersion === '2' ? '2' : '1.1',
      headers: local.headers,
      trailers: null,
      body: captureWhole(emptyBody(), body, env.opts.maxBodyBytes),
    };
    flow.timings.firstByte = this.now();
    // Drain whatever body the client sends so the connection can be reused.
    this.req.resume();
    if (!res.headersSent) {
      const headers = local.headers.some(([k]) => k.toLowerCase() === 'content-length') ? local.headers : [...local.headers, ['Content-Length', String(body.length)] as [string, string]];
      res.writeHead(local.status, flow.response.statusText, rawFromPairs(headers) as unknown as http.OutgoingHttpHeaders);
      res.end(this.req.method === 'HEAD' ? undefined : body);
    }
    flow.timings.responseEnd = this.now();
    env.emitter.end(flow);
  }

  /** Record an error; give the client an error page if it has not had a response head yet. */
  fail(error: ProxyError): void {
    if (this.isFinished()) return;
    this.clearTimer();
    const { env, flow, res } = this;
    this.upReq?.destroy();
    if (!res.headersSent && !res.destroyed) {
      const page = errorPage(error.toFlowError(), flowUrl(flow.request));
      this.respondError(page.status, page.contentType, page.body);
    } else {
      // The head already went out: the only honest signal left is to cut the connection.
      res.destroy();
    }
    flow.timings.responseEnd = this.now();
    env.emitter.end(flow, error.toFlowError());
  }

  private respondError(status: number, contentType: string, body: string): void {
    const { flow, res } = this;
    const bytes = Buffer.from(body);
    const headers: HeaderPairs = [
      ['Content-Type', contentType],
      ['Content-Length', String(bytes.length)],
      ['Cache-Control', 'no-store'],
      ['X-Proxyctl-Error', 'true'],
    ];
    flow.response = {
      status,
      statusText: http.STATUS_CODES[status] ?? '',
      httpVersion: flow.request.httpVersion === '2' ? '2' : '1.1',
      headers,
      trailers: null,
      body: captureWhole(emptyBody(), bytes, this.env.opts.maxBodyBytes),
    };
    this.req.resume();
    res.writeHead(status, rawFromPairs(headers) as unknown as http.OutgoingHttpHeaders);
    res.end(this.req.method === 'HEAD' ? undefined : bytes);
  }

  private readonly onClientClose = (): void => {
    if (this.isFinished() || this.res.writableFinished) return;
    this.clearTimer();
    this.upReq?.destroy();
    this.flow.timings.responseEnd = this.now();
    this.env.emitter.end(this.flow, { code: 'CLIENT_ABORTED', message: 'the client closed the connection before the response was complete' });
  };

  private armTimer(ms: number, message: string): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.upReq?.destroy(new ProxyError('UPSTREAM_TIMEOUT', message));
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
