import http from 'node:http';
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { emptyBody, flowUrl, headerValue, type Flow, type FlowRequest, type HeaderPairs, type ClientInfo, type HttpVersion } from '../core/flow.js';
import { pairsFromRaw, stripHopByHop, hasHeader } from '../core/headers.js';
import { ProxyError, classifyUpstreamError, errorPage } from '../core/errors.js';
import { BodyCapturer, captureWhole } from '../core/capture.js';
import type { LocalResponse } from '../core/pipeline.js';
import { decideRequest } from './request-rules.js';
import { hostHeader } from '../core/authority.js';
import { parseH2RequestHead } from '../core/h2-translate.js';
import type { FlowEmitter } from './flow-emitter.js';
import type { ProxyDeps, ProxyOptions } from './options.js';
import { summarizePeerCertificate, type UpstreamPool } from './upstream.js';
import type { H2Sessions, UpstreamRoute } from './upstream-h2.js';
import { sendH1, sendH2, type UpstreamHead, type UpstreamSink } from './upstream-send.js';
import { clientWriter, type ClientRequest, type ClientResponse, type ClientWriter } from './client-side.js';
import { matchBreakpoint, type Breakpoint, type BreakpointStage } from '../core/breakpoints.js';
import type { PauseDecision } from '../core/pauses.js';
import { applyRequestEdit, applyResponseEdit, fixBodyFraming } from '../core/edits.js';
import { collectBody } from './collect-body.js';
import { REPLAY_HEADER } from './replay-client.js';

const kCertSummary = Symbol('proxyctl.certSummary');

/** Everything an exchange needs, shared by all exchanges of one proxy. */
export interface ExchangeEnv {
  opts: ProxyOptions;
  deps: ProxyDeps;
  pool: UpstreamPool;
  h2: H2Sessions;
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
 * One request/response pair through the proxy, from either an HTTP/1.x connection or one HTTP/2
 * stream, to an HTTP/1.1 or HTTP/2 origin: build the flow, run the rules, forward, stream the
 * response back with bounded capture, and turn every failure into a flow error plus (when the
 * client can still get one) an error page. Rules see the same flow whatever the versions.
 */
export class Exchange {
  private readonly t0 = performance.now();
  private readonly out: ClientWriter;
  private upstream: { destroy(err?: Error): void } | null = null;
  /** What to send as the request body (see forward()). */
  private body: Buffer | Readable | null = null;
  private paused = false;
  /** A request body is being read only to record and discard it (see drainRequest). */
  private draining = false;
  /** The exchange has answered (locally or with an error) and only waits to be recorded. */
  private ending = false;
  private afterDrain: (() => void) | null = null;
  /** Bodies still streaming; sealed as aborted when the exchange ends early. */
  private readonly captures: BodyCapturer[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The value for Host / :authority towards the origin. */
  private authority: string;
  readonly flow: Flow;

  constructor(
    private readonly env: ExchangeEnv,
    private readonly req: ClientRequest,
    private readonly res: ClientResponse,
    target: RequestTarget,
    client: ClientInfo,
  ) {
    this.out = clientWriter(res);
    let headers: HeaderPairs;
    let version: HttpVersion;
    if (this.out.h2) {
      const head = parseH2RequestHead(req.rawHeaders);
      headers = head.headers;
      version = '2';
      this.authority = head.authority ?? headerValue(headers, 'host') ?? hostHeader(target.scheme, target.host, target.port);
    } else {
      headers = pairsFromRaw(req.rawHeaders);
      version = req.httpVersion === '1.0' ? '1.0' : '1.1';
      const host = headerValue(headers, 'host');
      this.authority = host ?? hostHeader(target.scheme, target.host, target.port);
      if (host === undefined) headers = [['Host', this.authority], ...headers];
    }
    let replayOf: string | null = null;
    const marker = headers.findIndex(([k]) => k.toLowerCase() === REPLAY_HEADER);
    if (marker >= 0) {
      replayOf = headers[marker]![1];
      headers = headers.filter((_, i) => i !== marker);
    }
    this.flow = newHttpFlow(env, client, {
      method: req.method ?? 'GET',
      scheme: target.scheme,
      host: target.host,
      port: target.port,
      path: target.path,
      httpVersion: version,
      headers,
      trailers: null,
      body: emptyBody(),
    });
    if (replayOf) this.flow.tags.push(`replay-of:${replayOf}`);
    res.on('close', this.onClientClose);
  }

  private now(): number {
    return performance.now() - this.t0;
  }

  async run(): Promise<void> {
    const { env, flow } = this;
    env.emitter.start(flow);
    const pending = decideRequest(env, flow);
    const decision = pending instanceof Promise ? await pending : pending;
    if (decision.action === 'respond') {
      this.respondLocally(decision.response);
      return;
    }
    if (decision.action === 'drop') {
      this.req.resume();
      this.out.drop();
      env.emitter.end(flow);
      return;
    }
    if (this.isFinished()) return; // the client left while rules ran
    const bp = this.breakpointFor('request');
    if (bp) await this.pauseRequest(bp);
    else this.forward(null);
  }

  private breakpointFor(stage: BreakpointStage): Breakpoint | null {
    const bps = this.env.deps.breakpoints();
    return bps.length ? matchBreakpoint(bps, this.flow, stage) : null;
  }

  /**
   * Hold the request whole (up to the limit) and wait for the user. A body over the limit is
   * passed through with a notice instead: holding it would mean buffering without bound.
   */
  private async pauseRequest(bp: Breakpoint): Promise<void> {
    const { env, flow } = this;
    if (!env.deps.pauses.hasRoom()) {
      env.deps.bus.log('warn', `breakpoint ${bp.label}: ${env.deps.pauses.limit} flows already paused; ${flow.request.method} ${flowUrl(flow.request)} passed through`, flow.id);
      this.forward(null);
      return;
    }
    const collected = await collectBody(this.req, env.opts.maxPausedBodyBytes);
    if (this.isFinished()) return;
    if (collected.overflow) {
      flow.tags.push('pause-skipped:body-too-large');
      env.deps.bus.log('warn', `breakpoint ${bp.label}: request body over ${env.opts.maxPausedBodyBytes} bytes; ${flow.request.method} ${flowUrl(flow.request)} passed through without pausing`, flow.id);
      this.forward(collected.stream);
      return;
    }
    let body = collected.bytes;
    flow.request.body = captureWhole(emptyBody(), body, env.opts.maxBodyBytes);
    flow.timings.requestEnd = this.now();
    if (collected.trailers.length) flow.request.trailers = collected.trailers;
    const decision = await this.pause('request', bp);
    if (decision === null) return;
    switch (decision.action) {
      case 'kill':
        this.fail(new ProxyError('KILLED', decision.reason ?? 'killed at the request breakpoint'));
        return;
      case 'respond':
        flow.tags.push('responded-at-breakpoint');
        this.respondLocally(decision.response);
        return;
      case 'resume':
        if (decision.reason) env.deps.bus.log('info', decision.reason, flow.id);
        if (decision.request) {
          try {
            const edited = applyRequestEdit(flow.request, decision.request, body);
            flow.original = { ...flow.original, request: flow.request };
            flow.request = { ...edited.request, body: captureWhole(emptyBody(), edited.body, env.opts.maxBodyBytes) };
            const r = flow.request;
            this.authority = headerValue(r.headers, 'host') ?? hostHeader(r.scheme, r.host, r.port);
            body = edited.body;
            if (!flow.tags.includes('edited')) flow.tags.push('edited');
          } catch (err) {
            // Validated by the command API before it decides; keep the request as it was.
            env.deps.bus.log('error', `edit not applied: ${(err as Error).message}`, flow.id);
          }
        }
        flow.phase = 'requesting';
        env.emitter.update(flow);
        this.forward(body);
    }
  }

  /** Mark the flow paused, announce it, and wait for the decision (null when the client left). */
  private async pause(stage: BreakpointStage, bp: Breakpoint): Promise<PauseDecision | null> {
    const { env, flow } = this;
    const now = Date.now();
    flow.phase = stage === 'request' ? 'request-paused' : 'response-paused';
    flow.pause = { stage, since: now, deadline: bp.timeoutMs === null ? null : now + bp.timeoutMs, onTimeout: bp.onTimeout, reason: bp.label };
    this.paused = true;
    env.emitter.update(flow);
    const decision = await env.deps.pauses.wait(flow.id, stage, bp.timeoutMs, bp.onTimeout);
    this.paused = false;
    flow.pause = null;
    return this.isFinished() ? null : decision;
  }

  private isFinished(): boolean {
    return this.ending || this.flow.phase === 'done' || this.flow.phase === 'error';
  }

  /**
   * Send the request upstream. `body` is null to stream the client's body, a Buffer for a body
   * held at a breakpoint, or a stream that replays what was read before streaming the rest.
   */
  private forward(body: Buffer | Readable | null): void {
    const { env, flow } = this;
    const r = flow.request;
    this.body = body;
    flow.phase = 'waiting';
    env.emitter.update(flow);
    flow.timings.upstreamSent = this.now();
    this.armTimer(env.opts.upstreamTimeoutMs);
    if (r.scheme === 'http') {
      this.sendH1();
      return;
    }
    const route = env.h2.route(r.host, r.port, (t) => {
      flow.timings.upstreamConnect = t.connectMs === null ? null : (flow.timings.upstreamSent ?? 0) + t.connectMs;
      flow.timings.upstreamTls = t.tlsMs === null ? null : (flow.timings.upstreamSent ?? 0) + t.tlsMs;
    });
    if (route instanceof Promise) {
      route.then(
        (rt) => this.dispatch(rt),
        (err: unknown) => this.fail(classifyUpstreamError(err)),
      );
    } else this.dispatch(route);
  }

  private dispatch(route: UpstreamRoute): void {
    if (this.isFinished()) {
      if (route.protocol === 'h1' && route.socket) route.socket.destroy();
      return;
    }
    if (route.protocol === 'h2') this.sendH2(route.session);
    else {
      if (route.socket) this.env.pool.https.park(this.flow.request.host, this.flow.request.port, route.socket);
      this.sendH1();
    }
  }

  /** Whether the body to send is certainly empty (an H2 stream can then end with its headers). */
  noBody(): boolean {
    if (Buffer.isBuffer(this.body)) return this.body.length === 0;
    if (this.body) return false;
    return isBodyless(this.req);
  }

  private sendH1(): void {
    this.upstream = sendH1(this.sink());
  }

  private sendH2(session: http2.ClientHttp2Session): void {
    const stream = sendH2(this.sink(), session);
    if (stream) this.upstream = stream;
  }

  /** The exchange as the upstream senders see it. */
  private sink(): UpstreamSink {
    return {
      env: this.env,
      flow: this.flow,
      authority: this.authority,
      clientIsH2: this.out.h2,
      clientChunked: !this.out.h2 && this.req.headers['transfer-encoding'] !== undefined && this.req.headers['content-length'] === undefined,
      body: this.body,
      noBody: () => this.noBody(),
      now: () => this.now(),
      finished: () => this.isFinished(),
      bodyComplete: () => this.bodyComplete(),
      onHead: (up) => this.onResponse(up),
      onError: (err) => this.fail(err),
      onContinue: () => this.res.writeContinue(),
      onEarlyHints: (h) => this.relayEarlyHints(h),
      pipeBody: (dest, addTrailers) => this.pipeRequestBody(dest, addTrailers),
      skipBody: () => {
        this.flow.timings.requestEnd = this.now();
        this.req.resume();
      },
    };
  }

  /** Stream the client's body upstream with capture; trailers are added before the end. */
  private pipeRequestBody(dest: NodeJS.WritableStream, addTrailers: (t: HeaderPairs) => void): void {
    const { req, flow } = this;
    if (Buffer.isBuffer(this.body)) {
      // Held at a breakpoint: already captured; trailers were collected with it.
      if (flow.request.trailers?.length) addTrailers(flow.request.trailers);
      dest.end(this.body);
      return;
    }
    const source: Readable = this.body ?? req;
    const capture = new BodyCapturer(flow.request.body, this.env.opts.maxBodyBytes);
    this.captures.push(capture);
    source.on('data', (chunk: Buffer) => capture.push(chunk));
    // Registered before pipe() so trailers are added before pipe ends the upstream request.
    source.on('end', () => {
      flow.timings.requestEnd = this.now();
      capture.finish('complete');
      if (req.rawTrailers.length) {
        flow.request.trailers = pairsFromRaw(req.rawTrailers);
        addTrailers(flow.request.trailers);
      }
    });
    source.pipe(dest);
  }

  private relayEarlyHints(headers: HeaderPairs): void {
    const hints: Record<string, string | string[]> = {};
    for (const [k, v] of headers) {
      const key = k.toLowerCase();
      const prev = hints[key];
      hints[key] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    if (hints['link'] !== undefined) this.res.writeEarlyHints(hints as { link: string | string[] });
  }

  private onResponse(up: UpstreamHead): void {
    const { env, flow } = this;
    this.clearTimer();
    flow.timings.firstByte = this.now();
    if (up.tls) {
      const socket = up.tls as TLSSocket & { [kCertSummary]?: string | null };
      flow.server.tlsVersion = socket.getProtocol() ?? null;
      flow.server.alpn = socket.alpnProtocol || null;
      if (socket[kCertSummary] === undefined) socket[kCertSummary] = summarizePeerCertificate(socket);
      flow.server.certificate = socket[kCertSummary] ?? null;
    }
    const response = { status: up.status, statusText: up.statusText, httpVersion: up.httpVersion, headers: up.headers, trailers: null as HeaderPairs | null, body: emptyBody() };
    flow.response = response;
    flow.phase = 'responding';
    env.emitter.update(flow);
    if (this.isFinished()) {
      up.body.resume();
      return;
    }
    const bp = this.breakpointFor('response');
    if (bp) void this.pauseResponse(up, bp);
    else this.streamResponse(up);
  }

  private streamResponse(up: UpstreamHead): void {
    const { env, flow, res } = this;
    const response = flow.response!;
    const out = stripHopByHop(response.headers);
    try {
      this.out.writeHead(response.status, response.statusText, out);
    } catch (err) {
      up.body.resume();
      this.fail(new ProxyError('UPSTREAM_PROTOCOL', `cannot relay the response head: ${(err as Error).message}`));
      return;
    }
    const capture = new BodyCapturer(response.body, env.opts.maxBodyBytes);
    this.captures.push(capture);
    up.body.on('data', (chunk: Buffer) => capture.push(chunk));
    up.body.on('end', () => {
      capture.finish('complete');
      const trailers = up.trailers();
      if (trailers) {
        response.trailers = trailers;
        // HTTP/1.1 can carry trailers only in a chunked body (with a length they are dropped).
        if (this.out.h2 || !hasHeader(out, 'content-length')) this.out.addTrailers(trailers);
      }
    });
    up.body.on('error', () => {
      capture.finish('aborted');
    });
    res.once('finish', this.onClientFinish);
    up.body.pipe(res as NodeJS.WritableStream);
  }

  /** Hold the response whole (up to the limit), wait for the user, then send it (maybe edited). */
  private async pauseResponse(up: UpstreamHead, bp: Breakpoint): Promise<void> {
    const { env, flow } = this;
    if (!env.deps.pauses.hasRoom()) {
      env.deps.bus.log('warn', `breakpoint ${bp.label}: ${env.deps.pauses.limit} flows already paused; response passed through`, flow.id);
      this.streamResponse(up);
      return;
    }
    const collected = await collectBody(up.body, env.opts.maxPausedBodyBytes);
    if (this.isFinished()) return;
    if (collected.overflow) {
      flow.tags.push('pause-skipped:body-too-large');
      env.deps.bus.log('warn', `breakpoint ${bp.label}: response body over ${env.opts.maxPausedBodyBytes} bytes; passed through without pausing`, flow.id);
      this.streamResponse({ ...up, body: collected.stream });
      return;
    }
    let response = flow.response!;
    let body = collected.bytes;
    response.body = captureWhole(emptyBody(), body, env.opts.maxBodyBytes);
    response.trailers = up.trailers();
    const decision = await this.pause('response', bp);
    if (decision === null) return;
    switch (decision.action) {
      case 'kill':
        this.fail(new ProxyError('KILLED', decision.reason ?? 'killed at the response breakpoint'));
        return;
      case 'respond':
        flow.original = { ...flow.original, response };
        flow.tags.push('responded-at-breakpoint');
        this.respondLocally(decision.response);
        return;
      case 'resume':
        if (decision.reason) env.deps.bus.log('info', decision.reason, flow.id);
        if (decision.response) {
          try {
            const edited = applyResponseEdit(response, decision.response, body);
            flow.original = { ...flow.original, response };
            response = { ...edited.response, body: captureWhole(emptyBody(), edited.body, env.opts.maxBodyBytes) };
            flow.response = response;
            body = edited.body;
            if (!flow.tags.includes('edited')) flow.tags.push('edited');
          } catch (err) {
            env.deps.bus.log('error', `edit not applied: ${(err as Error).message}`, flow.id);
          }
        }
    }
    flow.phase = 'responding';
    env.emitter.update(flow);
    const out = fixBodyFraming(stripHopByHop(response.headers), body.length);
    this.res.once('finish', this.onClientFinish);
    try {
      this.out.writeHead(response.status, response.statusText, out);
      if (this.out.h2 && response.trailers) this.out.addTrailers(response.trailers);
      this.out.end(this.req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      this.fail(new ProxyError('INTERNAL', `cannot send the edited response: ${(err as Error).message}`));
    }
  }

  /** Answer the client ourselves (rule decision or the proxy's own pages). */
  respondLocally(local: LocalResponse): void {
    const { env, flow, res } = this;
    const body = typeof local.body === 'string' ? Buffer.from(local.body) : local.body;
    const headers = hasHeader(local.headers, 'content-length') ? local.headers : [...local.headers, ['Content-Length', String(body.length)] as [string, string]];
    flow.response = {
      status: local.status,
      statusText: local.statusText ?? http.STATUS_CODES[local.status] ?? '',
      httpVersion: flow.request.httpVersion === '2' ? '2' : '1.1',
      headers,
      trailers: null,
      body: captureWhole(emptyBody(), body, env.opts.maxBodyBytes),
    };
    flow.timings.firstByte = this.now();
    // Drain whatever body the client sends so the connection can be reused.
    this.drainRequest();
    if (!res.headersSent) {
      this.out.writeHead(local.status, flow.response.statusText, headers);
      this.out.end(this.req.method === 'HEAD' ? undefined : body);
    }
    flow.timings.responseEnd = this.now();
    this.ending = true;
    this.endWhenDrained(() => env.emitter.end(flow));
  }

  /** Record an error; give the client an error page if it has not had a response head yet. */
  fail(error: ProxyError): void {
    if (this.isFinished()) return;
    this.clearTimer();
    const { env, flow, res } = this;
    this.upstream?.destroy();
    if (!res.headersSent && !res.destroyed) {
      const page = errorPage(error.toFlowError(), flowUrl(flow.request));
      const bytes = Buffer.from(page.body);
      const headers: HeaderPairs = [
        ['Content-Type', page.contentType],
        ['Content-Length', String(bytes.length)],
        ['Cache-Control', 'no-store'],
        ['X-Proxyctl-Error', error.code],
      ];
      flow.response = { status: page.status, statusText: http.STATUS_CODES[page.status] ?? '', httpVersion: flow.request.httpVersion === '2' ? '2' : '1.1', headers, trailers: null, body: captureWhole(emptyBody(), bytes, env.opts.maxBodyBytes) };
      this.drainRequest();
      try {
        this.out.writeHead(page.status, flow.response.statusText, headers);
        this.out.end(this.req.method === 'HEAD' ? undefined : bytes);
      } catch {
        // The client side is already unusable (e.g. a reset H2 stream); the flow still records why.
      }
    } else {
      // The head already went out: the only honest signal left is to cut the exchange.
      this.out.abort();
    }
    this.sealCaptures();
    flow.timings.responseEnd = this.now();
    this.ending = true;
    this.endWhenDrained(() => env.emitter.end(flow, error.toFlowError()));
  }

  /**
   * Read the rest of a request body nobody will forward (local answers, errors), still capturing it
   * so the flow shows what the client sent, and so the connection can be reused.
   */
  private drainRequest(): void {
    const body = this.flow.request.body;
    if (body.state === 'none' && !this.req.readableEnded) {
      const capture = new BodyCapturer(body, this.env.opts.maxBodyBytes);
      this.draining = true;
      this.req.on('data', (chunk: Buffer) => capture.push(chunk));
      const done = (state: 'complete' | 'aborted') => {
        if (!this.draining) return;
        this.draining = false;
        capture.finish(state);
        const then = this.afterDrain;
        this.afterDrain = null;
        then?.();
      };
      this.req.once('end', () => done('complete'));
      this.req.once('close', () => done('aborted'));
    }
    this.req.resume();
  }

  /** End the flow once a request body being drained has been read (so the flow shows it). */
  private endWhenDrained(end: () => void): void {
    if (this.draining) this.afterDrain = end;
    else end();
  }

  private sealCaptures(): void {
    for (const c of this.captures) c.finish('aborted');
  }

  /** 'finish' also fires for an HTTP/2 stream the client reset; only a response we ended counts. */
  private readonly onClientFinish = (): void => {
    if (this.isFinished() || !this.res.writableEnded || this.clientReset()) return;
    this.flow.timings.responseEnd = this.now();
    this.env.emitter.end(this.flow);
  };

  private clientReset(): boolean {
    return this.out.h2 && ((this.res as { stream?: { rstCode?: number } }).stream?.rstCode ?? 0) !== 0;
  }

  /**
   * True when the client already has the whole response body its Content-Length promised (it may
   * close before the origin's end-of-stream reaches us; that is not an abort).
   */
  private clientHasWholeBody(): boolean {
    const r = this.flow.response;
    if (!r || !this.res.headersSent) return false;
    const declared = headerValue(r.headers, 'content-length');
    return declared !== undefined && /^\d+$/.test(declared) && r.body.size >= Number(declared);
  }

  /** False when the response declared a length and fewer bytes arrived. */
  private bodyComplete(): boolean {
    const r = this.flow.response;
    if (!r) return false;
    const declared = headerValue(r.headers, 'content-length');
    return declared === undefined || !/^\d+$/.test(declared) || r.body.size >= Number(declared);
  }

  private readonly onClientClose = (): void => {
    if (this.isFinished()) return;
    if (this.res.writableEnded && this.res.writableFinished && !this.clientReset()) return; // 'finish' handles it
    if (this.clientHasWholeBody()) {
      this.upstream?.destroy();
      this.flow.timings.responseEnd = this.now();
      this.env.emitter.end(this.flow);
      return;
    }
    if (this.paused) this.env.deps.pauses.cancel(this.flow.id);
    this.clearTimer();
    this.upstream?.destroy();
    this.sealCaptures();
    this.flow.timings.responseEnd = this.now();
    this.env.emitter.end(this.flow, { code: 'CLIENT_ABORTED', message: 'the client closed the connection before the response was complete' });
  };

  private armTimer(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.fail(new ProxyError('UPSTREAM_TIMEOUT', `no response within ${ms} ms`));
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** A request that certainly has no body (so an H2 stream can end with its headers). */
export function isBodyless(req: ClientRequest): boolean {
  if ('stream' in req) return (req as { stream: http2.ServerHttp2Stream }).stream.endAfterHeaders;
  return req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined;
}
