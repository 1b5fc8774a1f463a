import http2 from 'node:http2';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { emptyBody, flowUrl, headerValue, type HeaderPairs } from '../core/flow.js';
import { pairsFromRaw, hasHeader, removeHeader } from '../core/headers.js';
import { ProxyError, classifyUpstreamError } from '../core/errors.js';
import { BodyCapturer, captureWhole } from '../core/capture.js';
import type { HookDecision } from '../core/pipeline.js';
import { assertNever } from '../core/assert-never.js';
import { decide, decideRequest } from './request-rules.js';
import { decodeBody } from '../core/body-decode.js';
import { delay } from './throttle.js';
import { answerWithCommand, answerFromLocalFile } from './local-answer.js';
import { hostHeader } from '../core/authority.js';
import { summarizePeerCertificate } from './upstream.js';
import type { ConnectionMarks, UpstreamRoute } from './upstream-h2.js';
import { sendH1, sendH2, type UpstreamHead, type UpstreamSink } from './upstream-send.js';
import type { UpstreamH1Request } from './h1-client/request.js';
import type { H1IncomingRequest } from './h1-server/incoming.js';
import type { ClientRequest } from './client-side.js';
import { matchBreakpoint, type Breakpoint, type BreakpointStage } from '../core/breakpoints.js';
import type { PauseDecision } from '../core/pauses.js';
import { applyRequestEdit, applyResponseEdit, fixBodyFraming } from '../core/edits.js';
import { collectBody } from './collect-body.js';
import { ExchangeBase } from './exchange-base.js';

const kCertSummary = Symbol('proxyctl.certSummary');

export { newHttpFlow, type ExchangeEnv, type RequestTarget } from './exchange-base.js';

/**
 * One request/response pair through the proxy, from either an HTTP/1.x connection or one HTTP/2
 * stream, to an HTTP/1.1 or HTTP/2 origin: build the flow, run the rules, forward, stream the
 * response back with bounded capture, and turn every failure into a flow error plus (when the
 * client can still get one) an error page. Rules see the same flow whatever the versions.
 */
export class Exchange extends ExchangeBase {
  /** What to send as the request body (see forward()). */
  protected body: Buffer | Readable | null = null;
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
      case 'respond': {
        const response = decision.response;
        this.afterLatency(() => this.respondLocally(response));
        return true;
      }
      case 'drop':
        this.req.resume();
        this.out.drop();
        this.env.emitter.end(this.flow);
        return true;
      case 'serve-local': {
        const { root, urlPath } = decision;
        this.afterLatency(() => void answerFromLocalFile(this, root, urlPath));
        return true;
      }
      case 'run-command':
        this.afterLatency(() => answerWithCommand(this, decision, held));
        return true;
      default:
        return assertNever(decision, 'rule decision');
    }
  }

  /** A throttle rule's latency applies to the proxy's own answers too (mock, map-local, command). */
  private afterLatency(answer: () => void): void {
    const ms = this.ctx?.throttleSpec?.latencyMs ?? 0;
    if (ms <= 0) {
      answer();
      return;
    }
    void delay(ms).then(() => {
      if (!this.isFinished()) answer();
    });
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
      if (body === null) this.continueIfExpected();
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
    const out = this.ctx!.applyTransforms(this.ctx!.requestTransforms, bytes, flow);
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
    this.continueIfExpected();
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

  /**
   * Send the request upstream. `body` is null to stream the client's body, a Buffer for a body
   * held at a breakpoint, or a stream that replays what was read before streaming the rest.
   */
  protected forward(body: Buffer | Readable | null): void {
    const { env, flow } = this;
    const r = flow.request;
    this.body = body;
    this.startingAttempt();
    flow.phase = 'waiting';
    env.emitter.update(flow);
    flow.timings.upstreamSent = this.now();
    this.armTimer(env.opts.upstreamTimeoutMs);
    if (r.scheme === 'http') {
      this.sendH1();
      return;
    }
    const route = env.h2.route(r.host, r.port, (m) => this.waitedForConnection(m));
    if (route instanceof Promise) {
      route.then(
        (rt) => this.dispatch(rt),
        (err: unknown) => this.upstreamFailed(classifyUpstreamError(err)),
      );
    } else this.dispatch(route);
  }

  /**
   * The request waited for a new origin connection: its marks go on the flow, none before the
   * request was handed over (a connection opened ahead of it, e.g. warmed when the tunnel's TLS
   * began, shows only as the wait it still caused).
   */
  private waitedForConnection(m: ConnectionMarks): void {
    const t = this.flow.timings;
    const sent = t.upstreamSent ?? 0;
    t.upstreamConnect = m.connectAt === null ? null : Math.max(sent, m.connectAt - this.t0);
    t.upstreamTls = m.secureAt === null ? null : Math.max(sent, m.secureAt - this.t0);
  }

  private dispatch(route: UpstreamRoute): void {
    if (this.isFinished()) {
      if (route.protocol === 'h1' && route.socket) route.socket.destroy();
      return;
    }
    if (route.protocol === 'h2') this.sendH2(route.session);
    else {
      if (route.socket) this.env.pool.adopt(this.flow.request.host, this.flow.request.port, route.socket);
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
    this.sending('h1');
    const upReq = sendH1(this.sink());
    if (!upReq) return;
    this.upstream = upReq;
    this.sentH1(upReq);
  }

  private sendH2(session: http2.ClientHttp2Session): void {
    this.sending('h2');
    const stream = sendH2(this.sink(), session);
    if (stream) this.upstream = stream;
  }

  // Hooks for reverse mode (src/proxy/reverse/reverse-exchange.ts); forward flows need none.

  /** forward() starts an attempt at the upstream. */
  protected startingAttempt(): void {}

  /** The request is about to go out (an HTTP/2 stream goes out on a live session at once). */
  protected sending(_protocol: 'h1' | 'h2'): void {}

  /** An HTTP/1.1 request to the upstream was made (its connection may come later). */
  protected sentH1(_upReq: UpstreamH1Request): void {}

  /** The upstream failed (connection, reset, timeout, protocol): the exchange fails. */
  protected upstreamFailed(err: ProxyError): void {
    this.fail(err);
  }

  /** The upstream's response head arrived. */
  protected upstreamAnswered(_status: number): void {}

  /** The exchange as the upstream senders see it. */
  private sink(): UpstreamSink {
    return {
      env: this.env,
      flow: this.flow,
      authority: this.authority,
      clientIsH2: this.out.h2,
      clientChunked: !this.out.h2 && (this.req as H1IncomingRequest).bodyFraming === 'chunked',
      body: this.body,
      noBody: () => this.noBody(),
      now: () => this.now(),
      finished: () => this.isFinished(),
      bodyComplete: () => this.bodyComplete(),
      onHead: (up) => this.onResponse(up),
      onError: (err) => this.upstreamFailed(err),
      onContinue: () => this.relayContinue(),
      onEarlyHints: (h) => this.relayEarlyHints(h),
      pipeBody: (dest, addTrailers) => this.pipeRequestBody(dest, addTrailers),
      skipBody: () => {
        this.flow.timings.requestEnd = this.now();
        this.req.resume();
      },
      noBodySent: () => {
        this.flow.timings.requestEnd = this.now();
        captureWhole(this.flow.request.body, Buffer.alloc(0), this.env.opts.maxBodyBytes);
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
    this.upstreamAnswered(up.status);
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
    // HEAD, 1xx, 204 and 304 carry no body to rewrite: their framing headers must stay as sent.
    const status = flow.response!.status;
    const hasBody = this.req.method !== 'HEAD' && status >= 200 && status !== 204 && status !== 304;
    if (ctx?.responseTransforms.length && hasBody) {
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
    const out = this.ctx!.applyTransforms(this.ctx!.responseTransforms, decoded.bytes, flow);
    if (decoded.encoding === null && out.equals(body)) return body;
    if (!out.equals(decoded.bytes) && !flow.tags.includes('rewritten')) flow.tags.push('rewritten');
    if (decoded.encoding !== null) response.headers = removeHeader(response.headers, 'content-encoding');
    return out;
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

}

/** A request that certainly has no body (so an H2 stream can end with its headers). */
export function isBodyless(req: ClientRequest): boolean {
  if ('stream' in req) return (req as { stream: http2.ServerHttp2Stream }).stream.endAfterHeaders;
  // HTTP/1.x: the server read the framing already (a Content-Length of 0 still counts as a body).
  return (req as H1IncomingRequest).bodyFraming === 'none';
}
