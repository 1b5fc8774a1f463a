import type net from 'node:net';
import { BodyDecoder } from './body-decoder.js';
import { H1IncomingRequest } from './incoming.js';
import { H1ServerResponse, type ResponseOwner } from './outgoing.js';
import { HttpParseError, TOKEN } from '../../core/http-syntax.js';
import { parseRequestHead, type RequestHead } from './request-head.js';

const CRLF2 = Buffer.from('\r\n\r\n');

export interface H1ServerOptions {
  /** Request line and fields together (431 past it). */
  maxHeaderBytes: number;
  /** From the first byte of a request head to its end (408 past it). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long without traffic. */
  idleTimeoutMs: number;
}

/** A request the server could not read: the connection answers nothing more after it. */
export type ClientError = Error & { code: string; rawPacket?: Buffer };

export interface H1ServerHandlers {
  request(req: H1IncomingRequest, res: H1ServerResponse): void;
  /** `Connection: upgrade` + `Upgrade`: the socket is the handler's now; `head` was read past the request. */
  upgrade(req: H1IncomingRequest, socket: net.Socket, head: Buffer): void;
  /** CONNECT: the socket is the handler's now; `head` was read past the request. */
  connect(req: H1IncomingRequest, socket: net.Socket, head: Buffer): void;
  clientError(err: ClientError, socket: net.Socket): void;
}

/**
 * The proxy's own HTTP/1.x server, on sockets the listener hands it (it never listens itself).
 * One request at a time per connection: the next one (pipelined or not) is read once the
 * response to the current one has been handed to the socket. Node's `http.Server` did this job
 * before; this one does only what a proxy needs, at a fraction of the CPU per request
 * (bench/README.md), and keeps no per-connection state beyond its socket while idle.
 */
export class H1Server {
  private readonly connections = new Set<ServerConnection>();
  /** Connections with a request head begun and not finished (for the headers timeout). */
  readonly readingHead = new Set<ServerConnection>();
  private sweeper: NodeJS.Timeout;
  readonly keepAliveSeconds: number;

  constructor(
    readonly opts: H1ServerOptions,
    readonly handlers: H1ServerHandlers,
  ) {
    this.keepAliveSeconds = Math.max(1, Math.floor(opts.idleTimeoutMs / 1000));
    const every = Math.max(100, Math.min(30_000, Math.floor(opts.headersTimeoutMs / 4)));
    this.sweeper = setInterval(() => this.sweepHeads(), every);
    this.sweeper.unref();
  }

  /** Serve HTTP/1.x on this socket (bytes put back with `unshift` are read first). */
  accept(socket: net.Socket): void {
    const conn = new ServerConnection(socket, this);
    this.connections.add(conn);
    // A sniffed socket was paused with its first bytes put back: read them now.
    socket.resume();
  }

  forget(conn: ServerConnection): void {
    this.connections.delete(conn);
    this.readingHead.delete(conn);
  }

  /** Close connections that wait for a next request. */
  closeIdleConnections(): void {
    for (const c of this.connections) if (c.idle) c.socket.destroy();
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private sweepHeads(): void {
    const before = performance.now() - this.opts.headersTimeoutMs;
    for (const c of this.readingHead) if (c.headStartedAt < before) c.headersTimedOut();
  }
}

/** One client connection: its unparsed bytes, and the exchange in progress. */
class ServerConnection implements ResponseOwner {
  /** Bytes not parsed yet: a head in progress, or a next request waiting for the current response. */
  private buffered: Buffer | null = null;
  private req: H1IncomingRequest | null = null;
  private res: H1ServerResponse | null = null;
  private decoder: BodyDecoder | null = null;
  /** The response went out whole; reading the next request waits for the current body. */
  private responded = false;
  private closeAfter = false;
  private ended = false;
  /** parse() is running: a handler that answers within its call must not re-enter it. */
  private parsing = false;
  headStartedAt = 0;

  constructor(
    readonly socket: net.Socket,
    private readonly server: H1Server,
  ) {
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.setTimeout(server.opts.idleTimeoutMs);
    socket.on('timeout', this.onTimeout);
  }

  get keepAliveSeconds(): number {
    return this.server.keepAliveSeconds;
  }

  /** Waiting for a next request with nothing of it read. */
  get idle(): boolean {
    return this.req === null && this.buffered === null;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.ended) return;
    if (this.decoder) {
      this.feedBody(chunk, 0);
      return;
    }
    this.buffered = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
    if (this.req) {
      // A next request while the current response is pending: read it after the response.
      this.socket.pause();
      return;
    }
    this.parse();
  };

  /**
   * Read request heads from what is buffered, one exchange at a time. A handler that answers
   * within its call ends the exchange from inside parseOne (next() lands here again): the loop
   * takes the next pipelined request then, so a long pipeline does not grow the stack.
   */
  private parse(): void {
    if (this.parsing) return;
    this.parsing = true;
    try {
      while (this.buffered && !this.req && !this.ended && this.parseOne());
    } finally {
      this.parsing = false;
    }
  }

  /** Parse one request head from `buffered`; false when more bytes are needed or reading stopped. */
  private parseOne(): boolean {
    let buf = this.buffered!;
    // Empty lines before a request line are ignored (RFC 9112 §2.2).
    let start = 0;
    while (start + 1 < buf.length && buf[start] === 13 && buf[start + 1] === 10) start += 2;
    if (start) buf = buf.subarray(start);
    const max = this.server.opts.maxHeaderBytes;
    const end = buf.indexOf(CRLF2);
    if (end < 0 || end > max) {
      if (buf.length > max) {
        this.fail(Object.assign(new HttpParseError('HPE_HEADER_OVERFLOW', `request headers exceed ${max} bytes`), { rawPacket: buf }));
        return false;
      }
      if (!methodSoFarValid(buf)) {
        // Not HTTP (a stray TLS or SOCKS greeting …): say so now, as Node's parser does, rather
        // than wait for a head that never comes.
        this.fail(Object.assign(new HttpParseError('HPE_INVALID_METHOD', 'the request does not begin with a method'), { rawPacket: buf }));
        return false;
      }
      this.buffered = buf.length ? buf : null;
      if (buf.length && this.headStartedAt === 0) {
        this.headStartedAt = performance.now();
        this.server.readingHead.add(this);
      }
      return false;
    }
    let head: RequestHead;
    try {
      head = parseRequestHead(buf.toString('latin1', 0, end));
    } catch (err) {
      this.fail(Object.assign(err as HttpParseError, { rawPacket: buf }));
      return false;
    }
    const rest = buf.subarray(end + 4);
    this.buffered = null;
    if (this.headStartedAt) {
      this.headStartedAt = 0;
      this.server.readingHead.delete(this);
    }
    const req = new H1IncomingRequest(head, this.socket, this.resume);
    if (head.method === 'CONNECT' || head.upgrade) {
      req.complete = true;
      req.push(null);
      this.detach();
      if (head.method === 'CONNECT') this.server.handlers.connect(req, this.socket, rest);
      else this.server.handlers.upgrade(req, this.socket, rest);
      return false;
    }
    const res = new H1ServerResponse(this.socket, head.method, head.minor, head.keepAlive, this);
    this.req = req;
    this.res = res;
    this.responded = false;
    this.closeAfter = !head.keepAlive;
    let decoder: BodyDecoder | null = null;
    if (head.framing.kind === 'none') {
      req.complete = true;
      req.push(null);
      // Kept before the handler runs: one that answers within its call goes on to these bytes.
      if (rest.length) this.keepForLater(rest);
    } else {
      decoder = this.decoder = new BodyDecoder(
        head.framing,
        this.server.opts.maxHeaderBytes,
        (data) => {
          if (!req.push(data)) this.socket.pause();
        },
        (trailers) => {
          if (trailers.length) req.rawTrailers = trailers.flat();
          req.complete = true;
          req.push(null);
        },
      );
    }
    this.server.handlers.request(req, res);
    // Unless the socket closed meanwhile (the decoder is gone then), the body's first bytes.
    if (decoder && rest.length && this.decoder === decoder) this.feedBody(rest, 0);
    return true;
  }

  private feedBody(chunk: Buffer, from: number): void {
    let pos: number;
    try {
      pos = this.decoder!.feed(chunk, from);
    } catch (err) {
      // A broken body: the request cannot be read to its end, nor the connection reused.
      this.decoder = null;
      this.req?.destroy();
      this.closeAfter = true;
      if (!this.res?.headersSent) this.fail(Object.assign(err as HttpParseError, { rawPacket: chunk }));
      else this.socket.destroy();
      return;
    }
    if (!this.decoder!.done) return;
    this.decoder = null;
    if (pos < chunk.length) this.keepForLater(chunk.subarray(pos));
    if (this.responded) this.next();
  }

  /** Bytes of a next request, kept until the current exchange is over. */
  private keepForLater(bytes: Buffer): void {
    this.buffered = this.buffered ? Buffer.concat([this.buffered, bytes]) : bytes;
    this.socket.pause();
  }

  private readonly resume = (): void => {
    if (!this.ended) this.socket.resume();
  };

  /** ResponseOwner: the response went to the socket whole. */
  responseDone(close: boolean): void {
    if (close) this.closeAfter = true;
    this.responded = true;
    if (this.closeAfter) {
      this.ended = true;
      this.req?.resume();
      this.socket.end();
      // Lingering close (RFC 9112 §9.6): read and drop what the client still sends (onData ignores
      // it now), so an unread body neither stalls the client nor turns the close into a reset that
      // can destroy the response before it is read. onTimeout ends a client that never closes.
      this.socket.resume();
      return;
    }
    // A body nobody read is read and dropped (as Node does), so the connection can carry the next.
    if (this.decoder) {
      this.req?.resume();
      this.socket.resume();
      return;
    }
    this.next();
  }

  /** The exchange is over: read the next request. */
  private next(): void {
    this.req = null;
    this.res = null;
    this.responded = false;
    this.socket.resume();
    if (this.buffered) this.parse();
  }

  /** A request that cannot be read: tell the handler (which answers 400/408/431) and stop reading. */
  private fail(err: ClientError): void {
    this.ended = true;
    this.buffered = null;
    this.server.readingHead.delete(this);
    this.socket.off('data', this.onData);
    this.server.handlers.clientError(err, this.socket);
  }

  headersTimedOut(): void {
    if (this.ended) return;
    const err = Object.assign(new Error('request headers not received in time'), { code: 'ERR_HTTP_REQUEST_TIMEOUT', rawPacket: this.buffered ?? undefined });
    this.fail(err as ClientError);
  }

  /** Hand the socket over (CONNECT, upgrade): nothing of ours stays on it. */
  private detach(): void {
    this.ended = true;
    const s = this.socket;
    s.off('data', this.onData);
    s.off('close', this.onClose);
    s.off('timeout', this.onTimeout);
    s.setTimeout(0);
    // Not flowing until its new owner reads (as Node leaves an upgraded socket).
    (s as { readableFlowing: boolean | null }).readableFlowing = null;
    this.server.forget(this);
  }

  private readonly onTimeout = (): void => {
    // Idle between requests (or silent before one): close. A request in progress keeps its
    // connection; its exchange has its own timers. A connection closing after its last response
    // (ended) waits for nothing more.
    if (this.req === null || this.ended) this.socket.destroy();
  };

  private readonly onClose = (): void => {
    this.ended = true;
    this.server.forget(this);
    const req = this.req;
    const res = this.res;
    this.req = null;
    this.res = null;
    this.decoder = null;
    if (req && !req.complete) req.destroy();
    if (res && !res.writableFinished) res.destroy();
  };
}

/** Whether the bytes before the first space (all of them if none yet) can start a method token. */
function methodSoFarValid(buf: Buffer): boolean {
  const start = buf.toString('latin1', 0, Math.min(buf.length, 32));
  const space = start.indexOf(' ');
  const method = space < 0 ? start : start.slice(0, space);
  return space !== 0 && (method === '' || TOKEN.test(method));
}
