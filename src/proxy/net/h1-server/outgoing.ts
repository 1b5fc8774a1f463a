import http from 'node:http';
import type net from 'node:net';
import { Writable } from 'node:stream';
import type { HeaderPairs } from '../../core/flow.js';
import { MESSAGE_BREAKING, TOKEN } from '../../core/http-syntax.js';
import { lastChunk, whenWritable, writeBodyPiece } from './body-encoder.js';


let dateSecond = 0;
let dateValue = '';
/** The Date field value, made once a second (RFC 9110 §6.6.1: an origin-like sender adds it). */
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

function invalid(message: string, code: string): Error {
  return Object.assign(new TypeError(message), { code });
}

/** What the response tells its connection. */
export interface ResponseOwner {
  /** Idle keep-alive time announced in `Keep-Alive: timeout=N`. */
  readonly keepAliveSeconds: number;
  /** The response was handed to the socket whole; `close`: the connection must end after it. */
  responseDone(close: boolean): void;
}

/**
 * A response on the proxy's own HTTP/1.x server: Node's `ServerResponse` surface the proxy uses
 * (writeHead, write/end and pipe, trailers, 100 Continue, 103 Early Hints, headersSent,
 * 'finish' and 'close'). Framing is chosen at writeHead: the given Content-Length, else chunked
 * for an HTTP/1.1 client, else the end of the connection; HEAD, 1xx, 204 and 304 carry no body.
 */
export class H1ServerResponse extends Writable {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  private head: string | null = null;
  private chunked = false;
  private bodyAllowed = true;
  /** The connection ends after this response. */
  private close: boolean;
  private trailers: HeaderPairs | null = null;
  private pendingHeaders: HeaderPairs = [];

  constructor(
    readonly socket: net.Socket,
    private readonly method: string,
    private readonly minor: number,
    keepAlive: boolean,
    private readonly owner: ResponseOwner,
  ) {
    super();
    this.close = !keepAlive;
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    const lower = name.toLowerCase();
    this.pendingHeaders = this.pendingHeaders.filter(([k]) => k.toLowerCase() !== lower);
    for (const v of Array.isArray(value) ? value : [String(value)]) this.pendingHeaders.push([name, v]);
    return this;
  }

  getHeader(name: string): string | undefined {
    const lower = name.toLowerCase();
    return this.pendingHeaders.find(([k]) => k.toLowerCase() === lower)?.[1];
  }

  /**
   * Fix the status and fields. Headers: pairs, Node's flat raw array, or an object. Throws (like
   * Node) on an invalid status or a field that could split the message.
   */
  writeHead(status: number, statusText?: string | HeaderPairs | readonly string[] | Record<string, string | number | readonly string[]>, headers?: HeaderPairs | readonly string[] | Record<string, string | number | readonly string[]>): this {
    if (this.headersSent) throw invalid('Cannot write headers after they are sent to the client', 'ERR_HTTP_HEADERS_SENT');
    let text: string | undefined;
    let fields = headers;
    if (typeof statusText === 'string') text = statusText;
    else if (statusText !== undefined) fields = statusText;
    if (!Number.isInteger(status) || status < 100 || status > 999) throw invalid(`Invalid status code: ${status}`, 'ERR_HTTP_INVALID_STATUS_CODE');
    this.statusCode = status;
    this.statusMessage = text || http.STATUS_CODES[status] || 'unknown';
    if (MESSAGE_BREAKING.test(this.statusMessage)) throw invalid('Invalid character in statusMessage', 'ERR_INVALID_CHAR');
    const pairs = [...this.pendingHeaders, ...toPairs(fields)];
    this.head = this.buildHead(pairs);
    this.headersSent = true;
    return this;
  }

  private buildHead(pairs: HeaderPairs): string {
    const status = this.statusCode;
    this.bodyAllowed = this.method !== 'HEAD' && status >= 200 && status !== 204 && status !== 304;
    let s = `HTTP/1.1 ${status} ${this.statusMessage}\r\n`;
    let length = false;
    let chunked = false;
    let date = false;
    for (const [k, v] of pairs) {
      if (!TOKEN.test(k)) throw invalid(`Invalid header name: ${JSON.stringify(k)}`, 'ERR_INVALID_HTTP_TOKEN');
      if (MESSAGE_BREAKING.test(v)) throw invalid(`Invalid character in header content ["${k}"]`, 'ERR_INVALID_CHAR');
      switch (k.length) {
        case 14:
          if (k.toLowerCase() === 'content-length') length = true;
          break;
        case 17:
          if (k.toLowerCase() === 'transfer-encoding') {
            if (/chunked\s*$/i.test(v)) chunked = true;
            else this.close = true; // some other coding: the body runs to the close
          }
          break;
        case 10:
          if (k.toLowerCase() === 'connection') {
            if (/(?:^|,)\s*close\s*(?:,|$)/i.test(v)) this.close = true;
            continue; // ours below says what this connection does
          }
          break;
        case 4:
          if (k.toLowerCase() === 'date') date = true;
          break;
      }
      if (k.length === 10 && k.toLowerCase() === 'keep-alive') continue;
      s += `${k}: ${v}\r\n`;
    }
    if (!date) s += `Date: ${httpDate()}\r\n`;
    if (this.bodyAllowed && !length && !chunked) {
      // No length given: chunked for an HTTP/1.1 client, else the body ends with the connection.
      if (this.minor === 1) {
        s += 'Transfer-Encoding: chunked\r\n';
        chunked = true;
      } else this.close = true;
    }
    this.chunked = chunked && this.bodyAllowed;
    s += this.close ? 'Connection: close\r\n' : `Connection: keep-alive\r\nKeep-Alive: timeout=${this.owner.keepAliveSeconds}\r\n`;
    return `${s}\r\n`;
  }

  /** Trailers for the end of a chunked body (a body with a length cannot carry them). */
  addTrailers(trailers: HeaderPairs | Record<string, string>): void {
    this.trailers = toPairs(trailers);
  }

  /** 100 Continue before the final response (RFC 9110 §15.2.1), never to an HTTP/1.0 client (§15.2). */
  writeContinue(): void {
    if (!this.headersSent && this.minor === 1 && !this.socket.destroyed) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
  }

  /** 103 Early Hints (RFC 8297), only to an HTTP/1.1 client. */
  writeEarlyHints(hints: Record<string, string | readonly string[]>): void {
    if (this.headersSent || this.minor !== 1 || this.socket.destroyed) return;
    let s = 'HTTP/1.1 103 Early Hints\r\n';
    for (const [k, v] of Object.entries(hints)) {
      for (const one of Array.isArray(v) ? v : [v as string]) {
        if (!TOKEN.test(k) || MESSAGE_BREAKING.test(one)) throw invalid(`Invalid header ${JSON.stringify(k)}`, 'ERR_INVALID_CHAR');
        s += `${k}: ${one}\r\n`;
      }
    }
    this.socket.write(`${s}\r\n`, 'latin1');
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const socket = this.socket;
    if (socket.destroyed) {
      cb();
      return;
    }
    const head = this.takeHead();
    if (!this.bodyAllowed || chunk.length === 0) {
      if (head !== null) socket.write(head, 'latin1');
      cb();
      return;
    }
    if (writeBodyPiece(socket, chunk, this.chunked, head)) cb();
    else whenWritable(socket, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    const socket = this.socket;
    if (!socket.destroyed) {
      const out = (this.takeHead() ?? '') + (this.chunked ? lastChunk(this.trailers) : '');
      if (out) socket.write(out, 'latin1');
    }
    cb();
    this.owner.responseDone(this.close);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // A response cut before its end: the client can only see that as the connection closing.
    if (!this.writableFinished && !this.socket.destroyed) this.socket.destroy();
    cb(err);
  }

  /** The head still to go out with the first bytes (writeHead(200) implied when never called). */
  private takeHead(): string | null {
    if (!this.headersSent) this.writeHead(this.statusCode);
    const head = this.head;
    this.head = null;
    return head;
  }
}

function toPairs(fields: HeaderPairs | readonly string[] | Record<string, string | number | readonly string[]> | undefined): HeaderPairs {
  if (fields === undefined) return [];
  if (Array.isArray(fields)) {
    if (fields.length === 0) return [];
    if (Array.isArray(fields[0])) return fields as HeaderPairs;
    const flat = fields as unknown as readonly string[];
    const out: HeaderPairs = new Array(flat.length >> 1);
    for (let i = 0, j = 0; i < flat.length; i += 2, j++) out[j] = [flat[i]!, flat[i + 1]!];
    return out;
  }
  const out: HeaderPairs = [];
  for (const [k, v] of Object.entries(fields as Record<string, string | number | readonly string[]>)) {
    for (const one of Array.isArray(v) ? v : [String(v)]) out.push([k, String(one)]);
  }
  return out;
}
