import type net from 'node:net';
import { Writable } from 'node:stream';
import type { HeaderPairs } from '../../core/flow.js';
import type { ConnectionUser, DialMarks, UpstreamConnection } from './connection.js';
import { ResponseBody } from './response-body.js';
import type { ResponseHead } from './response-parser.js';
import { MESSAGE_BREAKING, TOKEN } from '../../core/http-syntax.js';
import { lastChunk, whenWritable, writeBodyPiece } from '../h1-server/body-encoder.js';

/** A request for the upstream HTTP/1.1 client, framed already (see `sendH1`). */
export interface H1RequestSpec {
  method: string;
  /** The request-target: origin-form, or absolute-form towards a parent proxy. */
  target: string;
  headers: HeaderPairs;
  /** No body, a whole one, or a stream written through `bodyWriter()` (chunked or with a length). */
  body: 'none' | Buffer | 'stream';
  chunked: boolean;
  /** May be sent again on a fresh connection when a reused one turns out closed before answering. */
  retryable: boolean;
}

/** What the request tells its exchange. Calls stop once the request ended, failed or was destroyed. */
export interface H1RequestHandlers {
  /** A connection carries the request now; `marks` when it was made for it. */
  connected(socket: net.Socket, marks: DialMarks | null): void;
  informational(head: ResponseHead): void;
  head(head: ResponseHead, body: ResponseBody, socket: net.Socket): void;
  /** The response body ended (trailers of a chunked body, if any). */
  ended(trailers: HeaderPairs | null): void;
  /** Connecting failed, the connection broke, or the response was malformed. */
  failed(err: Error, phase: 'connect' | 'response' | 'body'): void;
}

/** Where connections for a request come from (the pool). */
export interface ConnectionSource {
  acquire(request: UpstreamH1Request, fresh: boolean): void;
}

/**
 * One request on the upstream HTTP/1.1 client: written on a pooled or fresh connection, its
 * response parsed into a head and a streamed body. The connection goes back to the pool once the
 * response ended and the request was written whole; `destroy()` abandons both.
 */
export class UpstreamH1Request implements ConnectionUser {
  private conn: UpstreamConnection | null = null;
  private resBody: ResponseBody | null = null;
  private writer: BodyWriter | null = null;
  private requestWritten = false;
  private responseEnded = false;
  private finished = false;
  private retried = false;
  private connectedWaiters: Array<() => void> | null = null;
  private readonly headText: string;

  /** Throws (code ERR_INVALID_CHAR) when a field could split the message. */
  constructor(
    readonly key: string,
    private readonly spec: H1RequestSpec,
    private readonly handlers: H1RequestHandlers,
    private readonly source: ConnectionSource,
  ) {
    this.headText = requestHead(spec);
  }

  start(): void {
    this.source.acquire(this, false);
  }

  /** Run `cb` once a connection carries the request (at once if it does already). */
  whenConnected(cb: () => void): void {
    if (this.conn) cb();
    else (this.connectedWaiters ??= []).push(cb);
  }

  /**
   * The stream to write a streamed body to (`spec.body === 'stream'`): it holds writes until a
   * connection is there, frames them (chunked or as they are) and adds trailers on a chunked end.
   */
  bodyWriter(): BodyWriter {
    return (this.writer ??= new BodyWriter(this.spec.chunked, () => {
      this.requestWritten = true;
      this.maybeRelease();
    }));
  }

  /** A connection for this request (from the pool, or dialled for it). */
  attach(conn: UpstreamConnection): void {
    if (this.finished) {
      conn.release(true);
      return;
    }
    this.conn = conn;
    conn.assign(this, this.spec.method);
    const socket = conn.socket;
    const head = this.headText;
    const body = this.spec.body;
    if (body === 'none') {
      socket.write(head, 'latin1');
      this.requestWritten = true;
    } else if (Buffer.isBuffer(body)) {
      socket.cork();
      socket.write(head, 'latin1');
      if (body.length) socket.write(body);
      socket.uncork();
      this.requestWritten = true;
    } else {
      socket.write(head, 'latin1');
      this.bodyWriter().attach(socket);
    }
    this.handlers.connected(socket, conn.served === 1 ? conn.marks : null);
    const waiters = this.connectedWaiters;
    this.connectedWaiters = null;
    if (waiters) for (const w of waiters) w();
  }

  /** No connection could be made. */
  connectFailed(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.writer?.destroy();
    this.handlers.failed(err, 'connect');
  }

  /** Abandon the request: the connection is closed (it is mid-exchange), the body cut. */
  destroy(err?: Error): void {
    if (this.finished) return;
    this.finished = true;
    const conn = this.conn;
    this.conn = null;
    conn?.release(false);
    this.writer?.destroy();
    this.resBody?.cut(err ?? abortedError());
  }

  informational(head: ResponseHead): void {
    if (!this.finished) this.handlers.informational(head);
  }

  head(head: ResponseHead): void {
    if (this.finished || !this.conn) return;
    const conn = this.conn;
    this.resBody = new ResponseBody(
      () => conn.socket.pause(),
      () => conn.socket.resume(),
    );
    this.handlers.head(head, this.resBody, conn.socket);
  }

  body(chunk: Buffer): void {
    this.resBody?.feed(chunk);
  }

  end(trailers: HeaderPairs | null): void {
    if (this.finished) return;
    this.responseEnded = true;
    this.handlers.ended(trailers);
    this.resBody?.push(null);
    this.maybeRelease();
  }

  failed(err: Error, responseBegun: boolean): void {
    if (this.finished) return;
    if (this.responseEnded) {
      // The answer is whole (an early response, RFC 9112 §9.6): only the rest of the upload is lost.
      this.finished = true;
      this.conn = null;
      this.writer?.destroy();
      return;
    }
    const conn = this.conn;
    this.conn = null;
    // A reused connection the origin had closed meanwhile: nothing of this request was answered,
    // so it can go again on a new connection (once, and only when its body can be sent again).
    if (!responseBegun && conn !== null && conn.served > 1 && this.spec.retryable && !this.retried && isStale(err)) {
      this.retried = true;
      this.source.acquire(this, true);
      return;
    }
    this.finished = true;
    this.writer?.destroy();
    if (this.resBody) {
      this.resBody.cut(err);
      this.handlers.failed(err, 'body');
    } else this.handlers.failed(err, 'response');
  }

  private maybeRelease(): void {
    if (!this.responseEnded || !this.requestWritten || this.finished) return;
    this.finished = true;
    const conn = this.conn;
    this.conn = null;
    conn?.release(true);
  }
}

/** The request line and fields; a field that could split the message is refused. */
function requestHead(spec: H1RequestSpec): string {
  if (!TOKEN.test(spec.method)) throw Object.assign(new TypeError(`invalid method ${JSON.stringify(spec.method)}`), { code: 'ERR_INVALID_HTTP_TOKEN' });
  if (!TARGET.test(spec.target)) throw Object.assign(new TypeError(`invalid request-target ${JSON.stringify(spec.target)}`), { code: 'ERR_UNESCAPED_CHARACTERS' });
  let s = `${spec.method} ${spec.target} HTTP/1.1\r\n`;
  for (const [k, v] of spec.headers) {
    if (!TOKEN.test(k) || MESSAGE_BREAKING.test(v)) throw Object.assign(new TypeError(`invalid header ${JSON.stringify(k)}: names are tokens, values have no CR, LF or NUL`), { code: 'ERR_INVALID_CHAR' });
    s += `${k}: ${v}\r\n`;
  }
  return `${s}\r\n`;
}

const TARGET = /^[\x21-\xff]+$/;

function isStale(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

function abortedError(): Error {
  return Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
}

/**
 * The request body towards the origin: writes wait until a connection is attached, then go on its
 * socket as they are (Content-Length) or as chunks, with trailers after the last chunk.
 */
export class BodyWriter extends Writable {
  private socket: net.Socket | null = null;
  private held: { chunk: Buffer; cb: (err?: Error | null) => void } | null = null;
  private trailers: HeaderPairs | null = null;

  constructor(
    private readonly chunked: boolean,
    private readonly onDone: () => void,
  ) {
    super();
  }

  /** Trailers to send after the last chunk (a body with a length cannot carry them). */
  addTrailers(trailers: HeaderPairs): void {
    this.trailers = trailers;
  }

  attach(socket: net.Socket): void {
    this.socket = socket;
    const held = this.held;
    this.held = null;
    if (held) this.send(held.chunk, held.cb);
    else if (this.finalCb) this.finish(this.finalCb);
  }

  private finalCb: ((err?: Error | null) => void) | null = null;

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.socket) this.send(chunk, cb);
    else this.held = { chunk, cb };
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.socket) this.finish(cb);
    else this.finalCb = cb;
  }

  private send(chunk: Buffer, cb: (err?: Error | null) => void): void {
    const socket = this.socket!;
    if (socket.destroyed) {
      cb();
      return;
    }
    if (writeBodyPiece(socket, chunk, this.chunked)) cb();
    else whenWritable(socket, cb);
  }

  private finish(cb: (err?: Error | null) => void): void {
    const socket = this.socket!;
    if (this.chunked && !socket.destroyed) socket.write(lastChunk(this.trailers), 'latin1');
    cb();
    this.onDone();
  }
}
