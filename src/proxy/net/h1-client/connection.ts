import type net from 'node:net';
import { ResponseParser, type ResponseEvents, type ResponseHead } from './response-parser.js';
import type { HeaderPairs } from '../../core/flow.js';

/** What a connection reports to the request it is serving. */
export interface ConnectionUser extends ResponseEvents {
  /** The connection failed (socket error, close before the response ended, malformed response). */
  failed(err: Error, responseBegun: boolean): void;
}

/** Performance-clock marks of how a fresh connection was made (absent on a reused one). */
export interface DialMarks {
  connectAt: number | null;
  secureAt: number | null;
}

/**
 * One keep-alive connection to an origin (or to the parent proxy): the socket, its response
 * parser, and the request it serves now (null while it waits in the pool). Requests are never
 * pipelined: a connection goes back to the pool once its response ended and the request was
 * written whole.
 */
export class UpstreamConnection implements ResponseEvents {
  readonly parser: ResponseParser;
  private user: ConnectionUser | null = null;
  /** Requests served so far (a reused connection may have been closed by the origin meanwhile). */
  served = 0;
  idleSince = 0;
  private responseBegun = false;
  closed = false;

  constructor(
    readonly socket: net.Socket,
    readonly key: string,
    maxHeaderBytes: number,
    readonly marks: DialMarks | null,
    private readonly onIdle: (conn: UpstreamConnection) => void,
    private readonly onGone: (conn: UpstreamConnection) => void,
  ) {
    this.parser = new ResponseParser(this, maxHeaderBytes);
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  /** Serve a request: from now on its response events go to `user`. */
  assign(user: ConnectionUser, method: string): void {
    this.user = user;
    this.responseBegun = false;
    this.served++;
    this.parser.expect(method);
  }

  /** The request stops listening (it ended, or gave up and destroys the socket). */
  release(reusable: boolean): void {
    this.user = null;
    if (reusable && !this.closed && this.parser.idle && this.parser.keepAlive) {
      this.idleSince = performance.now();
      // A body read late left the socket paused (ResponseBody backpressure): pooled, it must flow.
      this.socket.resume();
      this.onIdle(this);
    } else this.destroy();
  }

  destroy(): void {
    this.user = null;
    if (!this.socket.destroyed) this.socket.destroy();
    this.markGone();
  }

  private markGone(): void {
    if (this.closed) return;
    this.closed = true;
    this.onGone(this);
  }

  private readonly onData = (chunk: Buffer): void => {
    const user = this.user;
    if (!user) {
      // Bytes on an idle connection are not a response to anything: do not reuse it.
      this.destroy();
      return;
    }
    this.responseBegun = true;
    try {
      this.parser.execute(chunk);
    } catch (err) {
      const current = this.user;
      this.destroy();
      // After the response ended the request has let go: extra bytes only cost the connection.
      if (current) current.failed(err as Error, true);
    }
  };

  private readonly onError = (err: Error): void => {
    const user = this.user;
    this.destroy();
    user?.failed(err, this.responseBegun);
  };

  private readonly onClose = (): void => {
    const user = this.user;
    this.markGone();
    if (!user) return;
    // A body delimited by the close ends here; anything else was cut short.
    if (this.parser.untilClose) {
      this.parser.close();
      return;
    }
    this.user = null;
    user.failed(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), this.responseBegun);
  };

  informational(head: ResponseHead): void {
    this.user?.informational(head);
  }

  head(head: ResponseHead): void {
    this.user?.head(head);
  }

  body(chunk: Buffer): void {
    this.user?.body(chunk);
  }

  end(trailers: HeaderPairs | null): void {
    this.user?.end(trailers);
  }
}
