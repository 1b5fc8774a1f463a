import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { performance } from 'node:perf_hooks';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { H1IncomingRequest } from './h1-server/incoming.js';
import { originTrust } from './origin-trust.js';
import { emptyBody, flowUrl, type ClientInfo, type Flow, type FlowError, type HeaderPairs, type WebSocketMessage } from '../core/flow.js';
import { hasHeader, pairsFromRaw, rawFromPairs, removeHeader, setHeader, stripHopByHop } from '../core/headers.js';
import { ProxyError, classifyUpstreamError, errorPage } from '../core/errors.js';
import { BodyCapturer, captureWhole } from '../core/capture.js';
import type { LocalResponse } from '../core/pipeline.js';
import { decideRequest } from './request-rules.js';
import { hostHeader, isIpLiteral } from '../core/authority.js';
import {
  agreedExtensions,
  CappedBytes,
  DEFLATE_MESSAGE_TAIL,
  WS_CLOSE_NO_STATUS,
  WS_MAX_MESSAGES_PER_FLOW,
  WS_PAYLOAD_CAPTURE_LIMIT,
  WsFrameParser,
  type PerMessageDeflateParams,
  type WsParsedMessage,
} from '../core/ws-frames.js';
import { newHttpFlow, type ExchangeEnv, type RequestTarget } from './exchange.js';
import { headText } from './raw-response.js';
import { makeLookup, summarizePeerCertificate } from './upstream.js';

/** Once one side has closed cleanly, the other gets this long to close on its own. */
const CLOSE_GRACE_MS = 5000;

type Side = 'client' | 'server';

/** One captured message, ready for the flow (`size`/`payload` after inflation when compressed). */
interface WsRecord {
  direction: Side;
  message: WsParsedMessage;
  time: number;
}

/**
 * Relay an HTTP/1.1 Upgrade request (RFC 9110 §7.8), plain or inside CONNECT + TLS. A WebSocket
 * handshake becomes a flow of kind `websocket`; after the 101 the bytes are relayed unchanged both
 * ways while a parser on each direction captures the messages (RFC 6455 §5).
 */
export function handleUpgrade(env: ExchangeEnv, req: H1IncomingRequest, socket: net.Socket, head: Buffer, target: RequestTarget, client: ClientInfo): void {
  const relay = new UpgradeRelay(env, req, socket, head, target, client);
  relay.run().catch((err: unknown) => relay.fail(err instanceof ProxyError ? err : new ProxyError('INTERNAL', err instanceof Error ? err.message : String(err), { cause: err })));
}

class UpgradeRelay {
  private readonly t0 = performance.now();
  readonly flow: Flow;
  private upReq: ClientRequest | null = null;
  private upSocket: net.Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private graceTimer: NodeJS.Timeout | null = null;
  private capture: MessageCapture | null = null;
  /** After the 101: which side's TCP connection closed first, and how. */
  private readonly closed = { client: false, server: false };
  private readonly cleanEnd = { client: false, server: false };
  private firstClosed: Side | null = null;
  private upstreamError: ProxyError | null = null;

  constructor(
    private readonly env: ExchangeEnv,
    req: H1IncomingRequest,
    private readonly socket: net.Socket,
    private readonly head: Buffer,
    target: RequestTarget,
    client: ClientInfo,
  ) {
    let headers = req.headerPairs.slice();
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
    const protocol = (req.headers.upgrade ?? '').trim();
    if (/(^|[\s,])websocket([\s,/]|$)/i.test(protocol)) {
      this.flow.kind = 'websocket';
      this.flow.websocket = { messages: [], droppedMessages: 0, closeCode: null, closeReason: null, closedBy: null };
    } else this.flow.tags.push(`upgrade:${protocol.toLowerCase() || 'unknown'}`);
    // The HTTP server took its own 'error' listener off the socket when it handed it over.
    socket.on('error', () => {
      /* every socket error ends in 'close', where the flow records what happened */
    });
    // The idle timeout of the HTTP server is meant for requests, not for a long-lived connection.
    socket.setTimeout(0);
    socket.once('close', () => this.onSocketClose('client'));
    socket.once('end', () => (this.cleanEnd.client = true));
  }

  private now(): number {
    return performance.now() - this.t0;
  }

  private isFinished(): boolean {
    return this.flow.phase === 'done' || this.flow.phase === 'error';
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
      this.socket.destroy();
      env.emitter.end(flow);
      return;
    }
    if (this.isFinished()) return; // the client left while rules ran
    this.forward();
  }

  private forward(): void {
    const { env, flow } = this;
    const r = flow.request;
    flow.phase = 'waiting';
    // RFC 9110 §7.6.1: hop-by-hop fields stay behind, except the two that ask the next hop to
    // switch protocols (RFC 6455 §4.1). Sec-WebSocket-Extensions passes: see the README on
    // permessage-deflate.
    // Only WebSocket upgrades are relayed: another protocol (h2c …) could not be intercepted, so the
    // upgrade is declined by dropping it, and the origin answers the plain request (RFC 9110 §7.8).
    const out = stripHopByHop(r.headers, { keepUpgrade: flow.kind === 'websocket' });
    const common: http.RequestOptions = {
      host: r.host,
      port: r.port,
      method: r.method,
      path: r.path,
      headers: rawFromPairs(out) as unknown as http.OutgoingHttpHeaders,
      // A dedicated connection: after the 101 it belongs to this relay, never to a pool.
      agent: false,
      setHost: false,
      lookup: makeLookup(env.opts.resolve) as unknown as net.LookupFunction,
    };
    const tlsOptions: tls.ConnectionOptions = {
      rejectUnauthorized: !env.opts.insecure,
      secureContext: originTrust(env.opts.upstreamCa),
      // RFC 6066 §3: SNI carries host names only, never IP literals.
      ...(isIpLiteral(r.host) ? {} : { servername: r.host }),
    };
    const parent = env.pool.parent;
    if (parent) {
      // Upstream mode: the dedicated connection is a CONNECT tunnel through the parent (TLS to the
      // origin inside it for wss). Without an agent, Node waits for this callback.
      common.agent = undefined;
      common.createConnection = (_options, oncreate) => {
        const made = r.scheme === 'https' ? parent.tunnelTls(r.host, r.port, { ...tlsOptions, ALPNProtocols: ['http/1.1'] }) : parent.tunnel(r.host, r.port);
        made.then(
          (socket) => oncreate(null, socket),
          // Node's ClientRequest takes the error alone on failure.
          (err: Error) => (oncreate as (e: Error) => void)(err),
        );
        return undefined;
      };
    }
    const upReq = r.scheme === 'https' ? https.request({ ...common, ...tlsOptions }) : http.request(common);
    this.upReq = upReq;
    flow.timings.upstreamSent = this.now();
    this.armTimer(env.opts.upstreamTimeoutMs, `no answer to the upgrade request within ${env.opts.upstreamTimeoutMs} ms`);

    upReq.on('socket', (s) => {
      flow.server.address = s.remoteAddress ?? null;
      const marks = parent?.takeMarks(s);
      if (marks) {
        // Made ready through the parent before the request got it: no connect events will follow.
        const t0 = performance.now() - this.now();
        flow.timings.upstreamConnect = marks.tunnelAt - t0;
        if (marks.secureAt !== null) flow.timings.upstreamTls = marks.secureAt - t0;
      }
      if (!s.connecting) return; // already connected: the connect timer below has nothing to watch
      const connectTimer = setTimeout(() => upReq.destroy(new ProxyError('UPSTREAM_TIMEOUT', `could not connect within ${env.opts.connectTimeoutMs} ms`)), env.opts.connectTimeoutMs);
      s.once('connect', () => {
        flow.timings.upstreamConnect = this.now();
        flow.server.address = s.remoteAddress ?? null;
        if (r.scheme === 'http') clearTimeout(connectTimer);
      });
      s.once('secureConnect', () => {
        clearTimeout(connectTimer);
        flow.timings.upstreamTls = this.now();
      });
      s.once('close', () => clearTimeout(connectTimer));
    });
    upReq.on('error', (err) => this.fail(classifyUpstreamError(err)));
    upReq.on('response', (res) => this.onResponse(res));
    upReq.on('upgrade', (res, upSocket, upHead) => this.onUpgrade(res, upSocket, upHead));
    // Bytes after an upgrade request's head belong to the new protocol: they are relayed after the 101.
    upReq.end();
  }

  private recordServerTls(socket: net.Socket | null): void {
    const s = socket as tls.TLSSocket | null;
    if (!s || !s.encrypted) return;
    this.flow.server.tlsVersion = s.getProtocol() ?? null;
    this.flow.server.alpn = s.alpnProtocol || null;
    this.flow.server.certificate = summarizePeerCertificate(s);
  }

  /** The origin answered without switching protocols: relay that answer, then close. */
  private onResponse(res: IncomingMessage): void {
    const { env, flow, socket } = this;
    this.clearTimer();
    flow.timings.firstByte = this.now();
    this.recordServerTls(res.socket);
    const response = {
      status: res.statusCode ?? 502,
      statusText: res.statusMessage ?? '',
      httpVersion: res.httpVersion === '1.0' ? ('1.0' as const) : ('1.1' as const),
      headers: pairsFromRaw(res.rawHeaders),
      trailers: null,
      body: emptyBody(),
    };
    flow.response = response;
    flow.phase = 'responding';
    env.emitter.update(flow);
    if (this.isFinished() || socket.destroyed) {
      res.resume();
      return;
    }
    // The HTTP server gave this connection up for the upgrade, so it cannot carry another request:
    // the body is delimited by closing it (RFC 9112 §6.3, rule 8) unless a length says more.
    let out = stripHopByHop(response.headers);
    if (res.headers['transfer-encoding'] !== undefined) out = removeHeader(out, 'content-length');
    out = setHeader(out, 'Connection', 'close');
    socket.write(headText(response.status, response.statusText, out), 'latin1');
    const capture = new BodyCapturer(response.body, env.opts.maxBodyBytes);
    res.on('data', (chunk: Buffer) => capture.push(chunk));
    res.on('end', () => {
      capture.finish('complete');
      flow.timings.responseEnd = this.now();
      env.emitter.end(flow);
    });
    res.on('aborted', () => {
      capture.finish('aborted');
      this.socket.destroy();
      flow.timings.responseEnd = this.now();
      env.emitter.end(flow, { code: 'UPSTREAM_RESET', message: 'the upstream server closed the connection in the middle of the response body' });
    });
    res.on('error', () => {
      /* reported through 'aborted'; a listener keeps it from throwing */
    });
    res.pipe(socket);
  }

  /** The origin switched protocols: pass the 101 on and relay both ways. */
  private onUpgrade(res: IncomingMessage, upSocket: net.Socket, upHead: Buffer): void {
    const { env, flow, socket } = this;
    this.clearTimer();
    this.upSocket = upSocket;
    upSocket.on('error', (err) => {
      this.upstreamError ??= classifyUpstreamError(err);
    });
    upSocket.once('end', () => (this.cleanEnd.server = true));
    upSocket.once('close', () => this.onSocketClose('server'));
    upSocket.setTimeout(0);
    upSocket.setNoDelay(true);
    flow.timings.firstByte = this.now();
    this.recordServerTls(upSocket);
    const headers = pairsFromRaw(res.rawHeaders);
    flow.response = { status: res.statusCode ?? 101, statusText: res.statusMessage ?? '', httpVersion: '1.1', headers, trailers: null, body: emptyBody() };
    flow.phase = 'responding';
    env.emitter.update(flow);
    if (this.isFinished() || socket.destroyed) {
      upSocket.destroy();
      return;
    }
    if (flow.websocket) this.capture = this.startCapture(headers);
    socket.write(headText(flow.response.status, flow.response.statusText, stripHopByHop(headers, { keepUpgrade: true })), 'latin1');
    // Bytes that arrived with the heads already belong to the new protocol.
    if (upHead.length) this.forwardChunk(upHead, socket, 'server');
    if (this.head.length) this.forwardChunk(this.head, upSocket, 'client');
    this.pump(socket, upSocket, 'client');
    this.pump(upSocket, socket, 'server');
  }

  private startCapture(headers: HeaderPairs): MessageCapture {
    const { env, flow } = this;
    const values = headers.filter(([k]) => k.toLowerCase() === 'sec-websocket-extensions').map(([, v]) => v);
    const agreed = agreedExtensions(values);
    if (agreed.kind === 'unsupported') env.deps.bus.log('warn', `WebSocket extension not understood (${agreed.detail}); frames using it end the capture`, flow.id);
    return new MessageCapture(agreed.kind === 'permessage-deflate' ? agreed.params : null, {
      record: (rec) => this.record(rec),
      stopped: (side, detail) => {
        if (!flow.tags.includes('ws-capture-stopped')) flow.tags.push('ws-capture-stopped');
        env.deps.bus.log('warn', `WebSocket capture stopped for ${side} messages (bytes still relayed): ${detail}`, flow.id);
      },
    });
  }

  /**
   * Copy bytes from `src` to `dst` unchanged and let the capture look at them. Reading pauses while
   * `dst` or the capture (inflation) is behind, so neither buffers without bound.
   */
  private pump(src: net.Socket, dst: net.Socket, side: Side): void {
    src.on('data', (chunk: Buffer) => {
      const waits = this.forwardChunk(chunk, dst, side);
      if (waits.length === 0) return;
      src.pause();
      let pending = waits.length;
      const resume = () => {
        if (--pending === 0 && !src.destroyed) src.resume();
      };
      for (const wait of waits) wait(resume);
    });
    src.once('end', () => dst.end());
  }

  /** Forward one chunk; returns what must drain before reading on. */
  private forwardChunk(chunk: Buffer, dst: net.Socket, side: Side): Array<(done: () => void) => void> {
    const waits: Array<(done: () => void) => void> = [];
    if (dst.writable && !dst.write(chunk)) waits.push((done) => dst.once('drain', done));
    const backlog = this.capture?.push(side, chunk);
    if (backlog) waits.push(backlog);
    return waits;
  }

  private record(rec: WsRecord): void {
    const { env, flow } = this;
    const ws = flow.websocket!;
    const m = rec.message;
    const message: WebSocketMessage = { direction: rec.direction, type: m.type, size: m.size, payload: m.payload, truncated: m.truncated, time: rec.time };
    if (ws.messages.length < WS_MAX_MESSAGES_PER_FLOW) ws.messages.push(message);
    else ws.droppedMessages++;
    if (m.type === 'close' && ws.closedBy === null) {
      // The first close frame names who started the closing handshake (RFC 6455 §7.1.2).
      ws.closedBy = rec.direction;
      ws.closeCode = m.closeCode ?? WS_CLOSE_NO_STATUS;
      ws.closeReason = m.closeReason ?? '';
    }
    if (env.deps.bus.wants('ws-message')) env.deps.bus.emit({ type: 'ws-message', flowId: flow.id, message });
  }

  private onSocketClose(side: Side): void {
    if (!this.upSocket) {
      // Still before the 101: only the client can have gone.
      if (side === 'client' && !this.isFinished()) {
        this.clearTimer();
        this.upReq?.destroy();
        this.flow.timings.responseEnd = this.now();
        this.env.emitter.end(this.flow, { code: 'CLIENT_ABORTED', message: 'the client closed the connection before the upgrade completed' });
      }
      return;
    }
    this.closed[side] = true;
    this.firstClosed ??= side;
    const other = side === 'client' ? this.upSocket : this.socket;
    if (!other.destroyed) {
      if (this.cleanEnd[side]) {
        // A FIN is passed on by pump(); give the other side time to finish on its own.
        other.end();
        this.graceTimer ??= setTimeout(() => other.destroy(), CLOSE_GRACE_MS);
        this.graceTimer.unref();
      } else other.destroy();
    }
    if (this.closed.client && this.closed.server) void this.finish();
  }

  private async finish(): Promise<void> {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    if (this.isFinished()) return;
    const { flow } = this;
    let error: FlowError | undefined;
    if (this.capture) {
      await this.capture.idle();
      this.capture.dispose();
      const ws = flow.websocket!;
      // No close frame either way, while we could still read the stream: the connection was cut
      // (RFC 6455 §7.1.5 calls this 1006, "abnormal closure").
      if (ws.closedBy === null && this.capture.following) {
        ws.closedBy = 'abrupt';
        error =
          this.firstClosed === 'server'
            ? (this.upstreamError?.toFlowError() ?? { code: 'UPSTREAM_RESET', message: 'the origin closed the WebSocket connection without a close frame' })
            : { code: 'CLIENT_ABORTED', message: 'the client closed the WebSocket connection without a close frame' };
      }
    }
    flow.timings.responseEnd = this.now();
    this.env.emitter.end(flow, error);
  }

  /** Answer the client ourselves (a rule's decision). */
  private respondLocally(local: LocalResponse): void {
    const { env, flow } = this;
    const body = typeof local.body === 'string' ? Buffer.from(local.body) : local.body;
    this.writeLocal(local.status, local.statusText ?? http.STATUS_CODES[local.status] ?? '', local.headers, body);
    flow.timings.responseEnd = this.now();
    env.emitter.end(flow);
  }

  /** Record an error; the client gets an error answer while it has not had a head yet. */
  fail(error: ProxyError): void {
    if (this.isFinished()) return;
    this.clearTimer();
    this.upReq?.destroy();
    const { env, flow } = this;
    if (this.upSocket) {
      // After the 101 nothing can be said in HTTP any more: cut both sides.
      this.upSocket.destroy();
      this.socket.destroy();
    } else {
      const page = errorPage(error.toFlowError(), flowUrl(flow.request));
      const headers: HeaderPairs = [
        ['Content-Type', page.contentType],
        ['Cache-Control', 'no-store'],
        ['X-Proxyctl-Error', 'true'],
      ];
      this.writeLocal(page.status, http.STATUS_CODES[page.status] ?? '', headers, Buffer.from(page.body));
    }
    flow.timings.responseEnd = this.now();
    env.emitter.end(flow, error.toFlowError());
  }

  /** Write a whole response on the raw client socket and close it. */
  private writeLocal(status: number, statusText: string, headers: HeaderPairs, body: Buffer): void {
    const { flow, socket } = this;
    let out = setHeader(headers, 'Content-Length', String(body.length));
    out = setHeader(out, 'Connection', 'close');
    flow.response = { status, statusText, httpVersion: '1.1', headers: out, trailers: null, body: captureWhole(emptyBody(), body, this.env.opts.maxBodyBytes) };
    flow.timings.firstByte ??= this.now();
    if (socket.writable) socket.end(Buffer.concat([Buffer.from(headText(status, statusText, out), 'latin1'), body]));
    else socket.destroy();
  }

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

interface CaptureSink {
  record(rec: WsRecord): void;
  /** A direction's capture stopped (protocol error or bad compressed data). */
  stopped(side: Side, detail: string): void;
}

/**
 * Message capture for both directions of one connection. Messages are recorded in the order their
 * last frame crossed the proxy, even when a compressed one is still being inflated.
 */
class MessageCapture {
  private readonly parsers: Record<Side, WsFrameParser>;
  private readonly inflaters: Record<Side, MessageInflater | null>;
  private pending = 0;
  private tail: Promise<void> | null = null;

  constructor(
    deflate: PerMessageDeflateParams | null,
    private readonly sink: CaptureSink,
  ) {
    const opts = { maxPayloadBytes: WS_PAYLOAD_CAPTURE_LIMIT, perMessageDeflate: deflate !== null };
    this.parsers = { client: new WsFrameParser(opts), server: new WsFrameParser(opts) };
    const stop = (side: Side) => (detail: string) => this.sink.stopped(side, detail);
    // Each compressor has its own window and context rule (RFC 7692 §7.1.1, §7.1.2).
    this.inflaters = deflate
      ? {
          client: new MessageInflater(deflate.clientMaxWindowBits, deflate.clientNoContextTakeover, stop('client')),
          server: new MessageInflater(deflate.serverMaxWindowBits, deflate.serverNoContextTakeover, stop('server')),
        }
      : { client: null, server: null };
  }

  /** False once either direction's frames could not be followed any more (a close frame could hide in them). */
  get following(): boolean {
    return !this.parsers.client.error && !this.parsers.server.error;
  }

  /** Look at `chunk`; returns a wait when inflation is behind and reading should pause. */
  push(side: Side, chunk: Buffer): ((done: () => void) => void) | null {
    const parser = this.parsers[side];
    if (parser.error) return null;
    const inflater = this.inflaters[side];
    const time = Date.now();
    let behind = false;
    for (const ev of parser.push(chunk)) {
      switch (ev.kind) {
        case 'frame':
          break;
        case 'compressed-start':
          inflater?.begin();
          break;
        case 'compressed-data':
          if (inflater && !inflater.write(ev.chunk)) behind = true;
          break;
        case 'message': {
          const m = ev.message;
          if (m.compressed && inflater) {
            const inflated = inflater.end();
            this.enqueue(side, inflated.then((out) => (out ? { direction: side, message: { ...m, ...out, compressed: false }, time } : null)));
          } else this.enqueue(side, { direction: side, message: m, time });
          break;
        }
        case 'error':
          this.sink.stopped(side, `${ev.code}: ${ev.detail}`);
          break;
      }
    }
    return behind && inflater ? (done) => inflater.onDrain(done) : null;
  }

  private enqueue(side: Side, item: WsRecord | Promise<WsRecord | null>): void {
    if (this.pending === 0 && !(item instanceof Promise)) {
      this.sink.record(item);
      return;
    }
    this.pending++;
    this.tail = (this.tail ?? Promise.resolve())
      .then(() => item)
      .then((rec) => {
        if (rec) this.sink.record(rec);
      })
      .catch((err: unknown) => this.sink.stopped(side, `recording a message failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        if (--this.pending === 0) this.tail = null;
      });
  }

  /** Resolves when every complete message has been recorded. */
  idle(): Promise<void> {
    return this.tail ?? Promise.resolve();
  }

  dispose(): void {
    this.inflaters.client?.dispose();
    this.inflaters.server?.dispose();
  }
}

interface InflateSink {
  bytes: CappedBytes;
  resolve(out: { size: number; payload: Buffer; truncated: boolean } | null): void;
}

/** A raw-inflate stream and the messages written to it whose output is not complete, oldest first. */
interface InflateStream {
  z: zlib.InflateRaw;
  sinks: InflateSink[];
}

/**
 * Inflates one direction's compressed messages for capture only (RFC 7692 §7.2.2). With context
 * takeover one raw-inflate stream lives across messages, so its LZ77 window carries over exactly
 * as the sender's does; with `no_context_takeover` every message gets a fresh stream. Output beyond
 * the capture limit is counted, not kept.
 */
class MessageInflater {
  private current: InflateStream | null = null;
  broken = false;

  constructor(
    private readonly windowBits: number,
    private readonly noContextTakeover: boolean,
    private readonly onBroken: (detail: string) => void,
  ) {}

  begin(): void {
    if (this.broken) return;
    if (!this.current || this.noContextTakeover) this.current = this.open();
    this.current.sinks.push({ bytes: new CappedBytes(WS_PAYLOAD_CAPTURE_LIMIT), resolve: () => {} });
  }

  /** Returns false when the stream is behind (wait for `onDrain`). */
  write(chunk: Buffer): boolean {
    if (this.broken || !this.current) return true;
    return this.current.z.write(chunk);
  }

  /** The message begun last is complete: its inflated size and head, or null when inflation failed. */
  end(): Promise<{ size: number; payload: Buffer; truncated: boolean } | null> {
    const cur = this.current;
    const sink = cur?.sinks[cur.sinks.length - 1];
    if (this.broken || !cur || !sink) return Promise.resolve(null);
    const done = new Promise<{ size: number; payload: Buffer; truncated: boolean } | null>((resolve) => (sink.resolve = resolve));
    cur.z.write(DEFLATE_MESSAGE_TAIL);
    // zlib pushes a chunk's output before the callback of the flush written after it runs, and
    // starts on later chunks only after that: all output in between belongs to this message.
    cur.z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      const first = cur.sinks.shift();
      first?.resolve(first.bytes.finish());
      if (this.noContextTakeover) cur.z.close();
    });
    return done;
  }

  onDrain(done: () => void): void {
    const z = this.current?.z;
    if (!z || this.broken || z.destroyed) done();
    else z.once('drain', done);
  }

  dispose(): void {
    const cur = this.current;
    this.current = null;
    if (!cur) return;
    for (const s of cur.sinks.splice(0)) s.resolve(null);
    cur.z.close();
  }

  private open(): InflateStream {
    // zlib >= 1.2.9 refuses an 8-bit raw deflate window and compresses with 9 instead, so the
    // inflater allows 9 even when 8 was negotiated (a larger window decodes a smaller one's output).
    const cur: InflateStream = { z: zlib.createInflateRaw({ windowBits: Math.max(9, this.windowBits) }), sinks: [] };
    cur.z.on('data', (out: Buffer) => cur.sinks[0]?.bytes.push(out));
    cur.z.on('error', (err) => {
      const first = !this.broken;
      this.broken = true;
      for (const s of cur.sinks.splice(0)) s.resolve(null);
      cur.z.destroy();
      if (first) this.onBroken(`cannot inflate a permessage-deflate message: ${err.message}`);
    });
    return cur;
  }
}
