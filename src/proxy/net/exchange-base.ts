import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { emptyBody, flowUrl, headerValue, type Flow, type FlowError, type FlowRequest, type HeaderPairs, type ClientInfo, type HttpVersion } from '../core/flow.js';
import { stripHopByHop, hasHeader } from '../core/headers.js';
import { ProxyError, errorPage } from '../core/errors.js';
import { BodyCapturer, captureWhole } from '../core/capture.js';
import type { HookDecision, LocalResponse } from '../core/pipeline.js';
import { decide } from './request-rules.js';
import { RuleContext } from './rule-context.js';
import { ThrottleStream } from './throttle.js';
import { hostHeader } from '../core/authority.js';
import { parseH2RequestHead } from '../core/h2-translate.js';
import type { FlowEmitter } from './flow-emitter.js';
import type { ProxyDeps, ProxyOptions } from './options.js';
import { type UpstreamPool } from './upstream.js';
import type { H2Sessions } from './upstream-h2.js';
import { type UpstreamHead } from './upstream-send.js';
import { clientWriter, type ClientRequest, type ClientResponse, type ClientWriter } from './client-side.js';
import type { H1IncomingRequest } from './h1-server/incoming.js';
import { fixBodyFraming } from '../core/edits.js';
import { REPLAY_HEADER } from './replay-client.js';
import { compress, planCompression, type Coding, type CompressionPlan } from './compression.js';


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
 * The client side of an exchange (see Exchange): the flow and its state, and every way of
 * answering the client: a local response, a whole body, a streamed one (upstream or local), an
 * error page, plus draining unread request bodies and noticing when the client leaves.
 */
export abstract class ExchangeBase {
  protected readonly t0 = performance.now();
  readonly out: ClientWriter;
  protected upstream: { destroy(err?: Error): void } | null = null;
  protected paused = false;
  /** A request body is being read only to record and discard it (see drainRequest). */
  protected draining = false;
  /** The exchange has answered (locally or with an error) and only waits to be recorded. */
  protected ending = false;
  protected afterDrain: (() => void) | null = null;
  /** Bodies still streaming; sealed as aborted when the exchange ends early. */
  protected readonly captures: BodyCapturer[] = [];
  protected timer: NodeJS.Timeout | null = null;
  /** What the rules asked of this exchange; made only when a rule has a hook to run. */
  protected ctx: RuleContext | null = null;
  protected errorHooksRan = false;
  /** A 100 Continue went to the client already. */
  private continued = false;
  /** The value for Host / :authority towards the origin. */
  protected authority: string;
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
      headers = (req as H1IncomingRequest).headerPairs.slice();
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

  protected readonly context = (): RuleContext => (this.ctx ??= new RuleContext(this.env.deps.bus, this.flow.id));

  protected isFinished(): boolean {
    return this.ending || this.flow.phase === 'done' || this.flow.phase === 'error';
  }

  /** A bandwidth cap from a throttle rule, as a stream to pipe the body through (else null). */
  protected throttled(): ThrottleStream | null {
    const bps = this.ctx?.throttleSpec?.bytesPerSecond;
    return bps ? new ThrottleStream(bps) : null;
  }

  /** Send a response whose body is whole in memory (held at a breakpoint, or rewritten). */
  protected sendWhole(body: Buffer): void {
    const { flow } = this;
    const response = flow.response!;
    response.body = captureWhole(emptyBody(), body, this.env.opts.maxBodyBytes);
    // The flow (and the cache, observing it) must see the framing that was actually sent.
    response.headers = fixBodyFraming(response.headers, body.length);
    const plan = this.compression(response.status, stripHopByHop(response.headers), body.length);
    flow.phase = 'responding';
    this.env.emitter.update(flow);
    const out = plan.headers;
    const ctx = this.ctx;
    this.res.once('finish', () => {
      ctx?.notifyObservers(this.clientReset() ? null : body, flow);
      this.onClientFinish();
    });
    try {
      this.out.writeHead(response.status, response.statusText, out);
      if (this.out.h2 && response.trailers) this.out.addTrailers(response.trailers);
      if (this.req.method === 'HEAD') this.out.end();
      else this.pipeToClient(body, plan.coding, body.length);
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
    const plan = this.compression(status, stripHopByHop(headers), declaredLength(headers));
    try {
      this.out.writeHead(status, flow.response.statusText, plan.headers);
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
      this.pipeToClient(body, plan.coding, declaredLength(headers), opts.endOnSourceEnd ?? true);
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
  protected drainRequestIfUnread(): void {
    if (this.flow.request.body.state === 'none' && this.req.listenerCount('data') === 0) this.drainRequest();
  }

  protected streamResponse(up: UpstreamHead): void {
    const { env, flow, res } = this;
    const response = flow.response!;
    const plan = this.compression(response.status, stripHopByHop(response.headers), declaredLength(response.headers));
    const out = plan.headers;
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
    this.pipeToClient(up.body, plan.coding, declaredLength(response.headers));
  }

  /**
   * The last stage of the response path (DESIGN.md §5): how the client's copy is encoded. The flow
   * keeps the origin's headers and bytes; a coding applied shows as a `compressed:CODING` tag.
   */
  protected compression(status: number, headers: HeaderPairs, bodySize: number | null): CompressionPlan {
    const settings = this.env.opts.compression;
    if (!settings.enabled) return { coding: null, headers };
    const accept = this.req.headers['accept-encoding'];
    const plan = planCompression({
      settings,
      method: this.req.method ?? 'GET',
      acceptEncoding: Array.isArray(accept) ? accept.join(', ') : accept,
      status,
      headers,
      bodySize,
    });
    if (plan.coding) this.flow.tags.push(`compressed:${plan.coding}`);
    return plan;
  }

  /** Send a body to the client: encoded when planned, then through a throttle rule's cap. */
  protected pipeToClient(body: Readable | Buffer, coding: Coding | null, sizeHint: number | null, end = true): void {
    const res = this.res as NodeJS.WritableStream;
    let stream: Readable | null = Buffer.isBuffer(body) ? null : body;
    if (coding) {
      const encoder = compress(body, coding, this.env.opts.compression, sizeHint);
      encoder.once('error', (err) => this.fail(new ProxyError('INTERNAL', `cannot compress the response: ${err.message}`)));
      // A client gone mid-body: free the compressor's memory now, not at garbage collection.
      this.res.once('close', () => encoder.destroy());
      stream = encoder;
    }
    const throttle = this.throttled();
    if (stream === null) {
      // A whole body, sent as it is.
      if (!throttle) {
        if (end) this.out.end(body as Buffer);
        else res.write(body as Buffer);
        return;
      }
      throttle.pipe(res, { end });
      throttle.end(body);
      return;
    }
    if (throttle) stream.pipe(throttle).pipe(res, { end });
    else stream.pipe(res, { end });
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
      const plan = this.compression(local.status, headers, body.length);
      this.out.writeHead(local.status, flow.response.statusText, plan.headers);
      if (this.req.method === 'HEAD') this.out.end();
      else if (plan.coding) this.pipeToClient(body, plan.coding, body.length);
      else this.out.end(body);
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

  protected afterErrorHooks(decision: HookDecision, error: ProxyError): void {
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
  protected drainRequest(): void {
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
  protected endWhenDrained(end: () => void): void {
    if (this.draining) this.afterDrain = end;
    else end();
  }

  protected sealCaptures(state: 'complete' | 'aborted' = 'aborted'): void {
    for (const c of this.captures) c.finish(state);
  }

  /**
   * Answer `Expect: 100-continue` once, before the proxy itself reads a request body the client is
   * holding back (RFC 9110 §10.1.1); an origin's own 100 later is then not relayed twice.
   */
  continueIfExpected(): void {
    if (this.continued || this.out.h2) return;
    this.continued = true;
    if (/100-continue/i.test(String(this.req.headers['expect'] ?? '')) && !this.res.headersSent) this.res.writeContinue();
  }

  /** An origin's 100 Continue, relayed unless the proxy already sent one. */
  protected relayContinue(): void {
    if (this.continued) return;
    this.continued = true;
    this.res.writeContinue();
  }

  /** 'finish' also fires for an HTTP/2 stream the client reset; only a response we ended counts. */
  protected readonly onClientFinish = (): void => {
    if (this.isFinished() || !this.res.writableEnded || this.clientReset()) return;
    this.flow.timings.responseEnd = this.now();
    this.env.emitter.end(this.flow);
  };

  protected clientReset(): boolean {
    return this.out.h2 && ((this.res as { stream?: { rstCode?: number } }).stream?.rstCode ?? 0) !== 0;
  }

  /**
   * True when the client already has the whole response body its Content-Length promised (it may
   * close before the origin's end-of-stream reaches us; that is not an abort).
   */
  protected clientHasWholeBody(): boolean {
    const r = this.flow.response;
    if (!r || !this.res.headersSent) return false;
    const declared = headerValue(r.headers, 'content-length');
    return declared !== undefined && /^\d+$/.test(declared) && r.body.size >= Number(declared);
  }

  /** False when the response declared a length and fewer bytes arrived. */
  protected bodyComplete(): boolean {
    const r = this.flow.response;
    if (!r) return false;
    const declared = headerValue(r.headers, 'content-length');
    return declared === undefined || !/^\d+$/.test(declared) || r.body.size >= Number(declared);
  }

  protected readonly onClientClose = (): void => {
    if (this.isFinished()) return;
    if (this.res.writableEnded && this.res.writableFinished && !this.clientReset()) return; // 'finish' handles it
    if (this.clientHasWholeBody()) {
      this.upstream?.destroy();
      // Everything was delivered; a source's end-of-file may simply not have been read yet.
      this.sealCaptures('complete');
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

  protected armTimer(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.fail(new ProxyError('UPSTREAM_TIMEOUT', `no response within ${ms} ms`));
    }, ms);
  }

  protected clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}


/** The Content-Length a response declares, or null when it has none (or a bad one). */
function declaredLength(headers: HeaderPairs): number | null {
  const v = headerValue(headers, 'content-length');
  return v !== undefined && /^\d+$/.test(v.trim()) ? Number(v.trim()) : null;
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
