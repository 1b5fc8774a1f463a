import http from 'node:http';
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { emptyBody, flowUrl, headerValue, type Flow, type FlowError, type FlowRequest, type HeaderPairs, type ClientInfo, type HttpVersion } from '../core/flow.js';
import { pairsFromRaw, stripHopByHop, hasHeader } from '../core/headers.js';
import { ProxyError, classifyUpstreamError, errorPage } from '../core/errors.js';
import { BodyCapturer, captureWhole } from '../core/capture.js';
import type { HookDecision, LocalResponse } from '../core/pipeline.js';
import { assertNever } from '../core/assert-never.js';
import { decide, decideRequest } from './request-rules.js';
import { RuleContext } from './rule-context.js';
import { decodeBody } from '../core/body-decode.js';
import { removeHeader } from '../core/headers.js';
import { delay, ThrottleStream } from './throttle.js';
import { answerWithCommand, answerFromLocalFile } from './local-answer.js';
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
  readonly out: ClientWriter;
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
  /** What the rules asked of this exchange; made only when a rule has a hook to run. */
  private ctx: RuleContext | null = null;
  private errorHooksRan = false;
  /** The value for Host / :authority towards the origin. */
  private authority: string;
  readonly flow: Flow;

  constructor(
    readonly env: ExchangeEnv,
    readonly req: ClientRequest,
    readonly res: ClientResponse,
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

  now(): number {
    return performance.now() - this.t0;
  }

  private readonly context = (): RuleContext => (this.ctx ??= new RuleContext(this.env.deps.bus, this.flow.id));

  async run(): Promise<void> {
    const { env, flow } = this;
    env.emitter.start(flow);
    const r = flow.request;
    const target = `${r.scheme}://${r.host}:${r.port}`;
    const pending = decideRequest(env, flow, this.context);
    const decision = pending instanceof Promise ? await pending : pending;
    if (this.isFinished()) return; // the client left while rules ran
    if (this.settle(decision, null)) return;
    const now = flow.request;
    if (`${now.scheme}://${now.host}:${now.port}` !== target) this.retarget();
    const bp = this.breakpointFor('request');
    if (bp) await this.pauseRequest(bp);
    else await this.proceed(null);
  }

  /** A rule (map-remote) changed where the request goes: follow it towards the new origin. */
  private retarget(): void {
    const r = this.flow.request;
    this.authority = headerValue(r.headers, 'host') ?? hostHeader(r.scheme, r.host, r.port);
    this.flow.server = { ...this.flow.server, host: r.host, port: r.port };
  }

  /**
   * Act on a rule's decision; false for `continue`. `held` is the request body when a breakpoint
   * already read it.
   */
  private settle(decision: HookDecision, held: Buffer | null): boolean {
    switch (decision.action) {
      case 'continue':
        return false;
      case 'respond':
        this.respondLocally(decision.response);
        return true;
      case 'drop':
        this.req.resume();
        this.out.drop();
        this.env.emitter.end(this.flow);
        return true;
      case 'serve-local':
        void answerFromLocalFile(this, decision.root, decision.urlPath);
        return true;
      case 'run-command':
        answerWithCommand(this, decision, held);
        return true;
      default:
        return assertNever(decision, 'rule decision');
    }
  }

  /** After the request breakpoints: the `request` stage of the rules, body rewrites, upstream. */
  private async proceed(body: Buffer | Readable | null): Promise<void> {
    const { env, flow } = this;
    const pending = decide(env, flow, 'request', this.context);
    const decision = pending instanceof Promise ? await pending : pending;
    if (this.isFinished()) return;
    if (this.settle(decision, Buffer.isBuffer(body) ? body : null)) return;
    if (this.ctx?.requestTransforms.length) {
      const rewritten = await this.rewriteRequestBody(body);
      if (rewritten === undefined) return;
      body = rewritten;
    }
    this.forward(body);
  }

  /** Hold the request body whole and pass it through the rules' rewrites (undefined: the client left). */
  private async rewriteRequestBody(body: Buffer | Readable | null): Promise<Buffer | Readable | null | undefined> {
    const { env, flow } = this;
    let bytes: Buffer;
    if (Buffer.isBuffer(body)) bytes = body;
    else {
      const collected = await collectBody(body ?? this.req, env.opts.maxPausedBodyBytes);
      if (this.isFinished()) return undefined;
      if (collected.overflow) {
        env.deps.bus.log('warn', `request body over ${env.opts.maxPausedBodyBytes} bytes: body rewrite rules skipped`, flow.id);
        return collected.stream;
      }
      bytes = collected.bytes;
      flow.timings.requestEnd = this.now();
      if (collected.trailers.length) flow.request.trailers = collected.trailers;
    }
    if (hasHeader(flow.request.headers, 'content-encoding')) {
      env.deps.bus.log('warn', 'the request body has a Content-Encoding: body rewrite rules skipped', flow.id);
      flow.request.body = captureWhole(emptyBody(), bytes, env.opts.maxBodyBytes);
      return bytes;
    }
    const out = RuleContext.transform(this.ctx!, this.ctx!.requestTransforms, bytes, flow);
    if (!out.equals(bytes) && !flow.tags.includes('rewritten')) flow.tags.push('rewritten');
    flow.request.headers = fixBodyFraming(flow.request.headers, out.length);
    flow.request.body = captureWhole(emptyBody(), out, env.opts.maxBodyBytes);
    return out;
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
      await this.proceed(null);
      return;
    }
    const collected = await collectBody(this.req, env.opts.maxPausedBodyBytes);
    if (this.isFinished()) return;
    if (collected.overflow) {
      flow.tags.push('pause-skipped:body-too-large');
      env.deps.bus.log('warn', `breakpoint ${bp.label}: request body over ${env.opts.maxPausedBodyBytes} bytes; ${flow.request.method} ${flowUrl(flow.request)} passed through without pausing`, flow.id);
      await this.proceed(collected.stream);
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
        await this.proceed(body);
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
    const throttle = this.throttled();
    if (throttle) source.pipe(throttle).pipe(dest);
    else source.pipe(dest);
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
    else void this.relayResponse(up, null);
  }

  /**
   * After the response breakpoints: the `responseHeaders` stage of the rules, then the response
   * goes to the client, streamed, or whole when a rule rewrites the body (or a breakpoint held
   * it: `held`). A rule may replace the response altogether (a cache revalidation).
   */
  private async relayResponse(up: UpstreamHead, held: Buffer | null): Promise<void> {
    const { env, flow } = this;
    const pending = decide(env, flow, 'responseHeaders', this.context);
    const decision = pending instanceof Promise ? await pending : pending;
    if (this.isFinished()) {
      if (held === null) up.body.resume();
      return;
    }
    if (decision.action === 'respond') {
      if (held === null) up.body.resume();
      flow.original = { ...flow.original, response: flow.response! };
      this.respondLocally(decision.response);
      return;
    }
    if (decision.action === 'drop') {
      if (held === null) up.body.resume();
      this.out.drop();
      env.emitter.end(flow);
      return;
    }
    if (decision.action !== 'continue') env.deps.bus.log('warn', `a rule answered with ${decision.action} after the response arrived; ignored`, flow.id);
    const ctx = this.ctx;
    if (ctx?.responseTransforms.length) {
      if (held === null) {
        const collected = await collectBody(up.body, env.opts.maxPausedBodyBytes);
        if (this.isFinished()) return;
        if (collected.overflow) {
          env.deps.bus.log('warn', `response body over ${env.opts.maxPausedBodyBytes} bytes: body rewrite rules skipped`, flow.id);
          up = { ...up, body: collected.stream };
        } else {
          flow.response!.trailers = up.trailers();
          held = collected.bytes;
        }
      }
      if (held !== null) held = this.rewriteResponseBody(held);
    }
    const latency = ctx?.throttleSpec?.latencyMs ?? 0;
    if (latency > 0) {
      await delay(latency);
      if (this.isFinished()) {
        if (held === null) up.body.resume();
        return;
      }
    }
    if (held !== null) this.sendWhole(held);
    else this.streamResponse(up);
  }

  /** Decode the response body, run the rules' rewrites, and send it without a content-coding. */
  private rewriteResponseBody(body: Buffer): Buffer {
    const { flow, env } = this;
    const response = flow.response!;
    const decoded = decodeBody({ ...emptyBody(), state: 'complete', size: body.length, bytes: body }, response.headers);
    if (decoded.error) {
      env.deps.bus.log('warn', `cannot decode the response body (${decoded.error}): body rewrite rules skipped`, flow.id);
      return body;
    }
    const out = RuleContext.transform(this.ctx!, this.ctx!.responseTransforms, decoded.bytes, flow);
    if (decoded.encoding === null && out.equals(body)) return body;
    if (!out.equals(decoded.bytes) && !flow.tags.includes('rewritten')) flow.tags.push('rewritten');
    if (decoded.encoding !== null) response.headers = removeHeader(response.headers, 'content-encoding');
    return out;
  }

  /** A bandwidth cap from a throttle rule, as a stream to pipe the body through (else null). */
  private throttled(): ThrottleStream | null {
    const bps = this.ctx?.throttleSpec?.bytesPerSecond;
    return bps ? new ThrottleStream(bps) : null;
  }

  /** Send a response whose body is whole in memory (held at a breakpoint, or rewritten). */
  private sendWhole(body: Buffer): void {
    const { flow } = this;
    const response = flow.response!;
    response.body = captureWhole(emptyBody(), body, this.env.opts.maxBodyBytes);
    // The flow (and the cache, observing it) must see the framing that was actually sent.
    response.headers = fixBodyFraming(response.headers, body.length);
    flow.phase = 'responding';
    this.env.emitter.update(flow);
    const out = stripHopByHop(response.headers);
    const ctx = this.ctx;
    this.res.once('finish', () => {
      ctx?.notifyObservers(this.clientReset() ? null : body, flow);
      this.onClientFinish();
    });
    try {
      this.out.writeHead(response.status, response.statusText, out);
      if (this.out.h2 && response.trailers) this.out.addTrailers(response.trailers);
      const throttle = this.req.method === 'HEAD' ? null : this.throttled();
      if (throttle) {
        throttle.pipe(this.res as NodeJS.WritableStream);
        throttle.end(body);
      } else this.out.end(this.req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      this.fail(new ProxyError('INTERNAL', `cannot send the response: ${(err as Error).message}`));
    }
  }

  /**
   * Answer with a streamed local body (map-local file, command output): write the head, capture
   * and pipe the body. The flow ends when `ended` resolves after the client got everything: with
   * the error it gives, if any. With `endOnSourceEnd: false` the caller ends the response.
   */
  streamLocal(status: number, headers: HeaderPairs, body: Readable, opts: { ended?: Promise<FlowError | null>; endOnSourceEnd?: boolean } = {}): void {
    const { env, flow, res } = this;
    flow.response = { status, statusText: http.STATUS_CODES[status] ?? '', httpVersion: flow.request.httpVersion === '2' ? '2' : '1.1', headers, trailers: null, body: emptyBody() };
    flow.timings.firstByte = this.now();
    flow.phase = 'responding';
    env.emitter.update(flow);
    this.drainRequestIfUnread();
    try {
      this.out.writeHead(status, flow.response.statusText, stripHopByHop(headers));
    } catch (err) {
      body.destroy();
      this.fail(new ProxyError('INTERNAL', `cannot send the response head: ${(err as Error).message}`));
      return;
    }
    if (this.req.method === 'HEAD') {
      body.destroy();
      this.out.end();
    } else {
      const capture = new BodyCapturer(flow.response.body, env.opts.maxBodyBytes);
      this.captures.push(capture);
      body.on('data', (chunk: Buffer) => capture.push(chunk));
      body.once('end', () => capture.finish('complete'));
      body.once('error', (err) => {
        capture.finish('aborted');
        this.fail(new ProxyError('INTERNAL', `the local response body failed: ${err.message}`));
      });
      const throttle = this.throttled();
      const end = opts.endOnSourceEnd ?? true;
      if (throttle) body.pipe(throttle).pipe(res as NodeJS.WritableStream, { end });
      else body.pipe(res as NodeJS.WritableStream, { end });
    }
    res.once('finish', () => {
      if (this.isFinished() || this.clientReset()) return;
      void (opts.ended ?? Promise.resolve(null)).then((error) => {
        if (this.isFinished()) return;
        flow.timings.responseEnd = this.now();
        env.emitter.end(flow, error ?? undefined);
      });
    });
  }

  /** Let a local answer cut its exchange short (a command that hung up mid-response). */
  setUpstream(handle: { destroy(err?: Error): void }): void {
    this.upstream = handle;
  }

  /** Drain the request body unless something is already reading it. */
  private drainRequestIfUnread(): void {
    if (this.flow.request.body.state === 'none' && this.req.listenerCount('data') === 0) this.drainRequest();
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
    const ctx = this.ctx;
    const observed = ctx?.observers.length ? observe(up.body, Math.max(...ctx.observers.map((o) => o.maxBytes))) : null;
    up.body.on('end', () => {
      capture.finish('complete');
      if (observed) ctx!.notifyObservers(this.bodyComplete() ? observed() : null, flow);
      const trailers = up.trailers();
      if (trailers) {
        response.trailers = trailers;
        // HTTP/1.1 can carry trailers only in a chunked body (with a length they are dropped).
        if (this.out.h2 || !hasHeader(out, 'content-length')) this.out.addTrailers(trailers);
      }
    });
    up.body.on('error', () => {
      capture.finish('aborted');
      if (observed) ctx!.notifyObservers(null, flow);
    });
    res.once('finish', this.onClientFinish);
    const throttle = this.throttled();
    if (throttle) up.body.pipe(throttle).pipe(res as NodeJS.WritableStream);
    else up.body.pipe(res as NodeJS.WritableStream);
  }

  /** Hold the response whole (up to the limit), wait for the user, then send it (maybe edited). */
  private async pauseResponse(up: UpstreamHead, bp: Breakpoint): Promise<void> {
    const { env, flow } = this;
    if (!env.deps.pauses.hasRoom()) {
      env.deps.bus.log('warn', `breakpoint ${bp.label}: ${env.deps.pauses.limit} flows already paused; response passed through`, flow.id);
      void this.relayResponse(up, null);
      return;
    }
    const collected = await collectBody(up.body, env.opts.maxPausedBodyBytes);
    if (this.isFinished()) return;
    if (collected.overflow) {
      flow.tags.push('pause-skipped:body-too-large');
      env.deps.bus.log('warn', `breakpoint ${bp.label}: response body over ${env.opts.maxPausedBodyBytes} bytes; passed through without pausing`, flow.id);
      void this.relayResponse({ ...up, body: collected.stream }, null);
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
    void this.relayResponse(up, body);
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
    if (!this.errorHooksRan && !res.headersSent && !res.destroyed) {
      // The rules' `error` stage may still answer (a cache serving its stale copy).
      this.errorHooksRan = true;
      flow.error = error.toFlowError();
      const pending = decide(env, flow, 'error', this.context);
      if (pending instanceof Promise) {
        this.ending = true;
        void pending.then((decision) => {
          this.ending = false;
          this.afterErrorHooks(decision, error);
        });
      } else this.afterErrorHooks(pending, error);
      return;
    }
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

  private afterErrorHooks(decision: HookDecision, error: ProxyError): void {
    if (decision.action === 'respond' && !this.res.headersSent && !this.res.destroyed) {
      this.env.deps.bus.log('warn', `${error.code}: ${error.message}; a rule answered instead`, this.flow.id);
      this.flow.error = null;
      this.sealCaptures();
      this.respondLocally(decision.response);
      return;
    }
    this.flow.error = null;
    this.fail(error);
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

/** Keep a copy of a streamed body up to `max` bytes; the getter gives it (null when it grew past). */
function observe(body: Readable, max: number): () => Buffer | null {
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > max) {
      body.off('data', onData);
      chunks.length = 0;
      return;
    }
    chunks.push(chunk);
  };
  body.on('data', onData);
  return () => (size > max ? null : Buffer.concat(chunks, size));
}

/** A request that certainly has no body (so an H2 stream can end with its headers). */
export function isBodyless(req: ClientRequest): boolean {
  if ('stream' in req) return (req as { stream: http2.ServerHttp2Stream }).stream.endAfterHeaders;
  return req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined;
}
