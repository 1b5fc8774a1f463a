import type { HeaderPairs } from '../../core/flow.js';
import { BodyDecoder } from '../h1-server/body-decoder.js';
import { HttpParseError, MESSAGE_BREAKING, TOKEN, trimOws } from '../../core/http-syntax.js';
import { intern } from '../../core/intern.js';

const CRLF2 = Buffer.from('\r\n\r\n');

/** A response head as it came off the wire. */
export interface ResponseHead {
  status: number;
  statusText: string;
  /** `HTTP/1.x`: 0 or 1. */
  minor: number;
  headers: HeaderPairs;
}

export interface ResponseEvents {
  /** A 1xx interim response (100 Continue, 103 Early Hints …); the final one follows. */
  informational(head: ResponseHead): void;
  head(head: ResponseHead): void;
  /** A slice of the body; valid only during the call unless kept (it is not copied). */
  body(chunk: Buffer): void;
  /** The body ended as framed; trailers of a chunked body, if any. */
  end(trailers: HeaderPairs | null): void;
}

/** A malformed response. `code` follows Node's parser codes, which the error classifier knows. */
export { HttpParseError as ResponseParseError };

const enum State {
  Idle,
  Head,
  /** A body framed by Content-Length or chunked coding (the decoder the server side uses too). */
  Framed,
  UntilClose,
}

/**
 * An incremental HTTP/1.x response parser (RFC 9112) for the proxy's own upstream client: the
 * status line and fields, then the body as framed by the request method, the status,
 * Transfer-Encoding, Content-Length or the end of the connection (§6.3). Body bytes are handed on
 * as slices of what was read, never copied.
 */
export class ResponseParser {
  private state = State.Idle;
  /** Unparsed bytes of a head, chunk-size line or trailer section split across reads. */
  private pending: Buffer | null = null;
  private decoder: BodyDecoder | null = null;
  private noBody = false;
  /** The connection can carry another request once this response has ended. */
  keepAlive = false;

  constructor(
    private readonly events: ResponseEvents,
    private readonly maxHeaderBytes: number,
  ) {}

  /** Expect the response to a request with this method (HEAD responses have no body). */
  expect(method: string): void {
    this.state = State.Head;
    this.pending = null;
    this.noBody = method === 'HEAD';
    this.keepAlive = false;
  }

  /** Waiting for nothing: the last response ended (or none was asked for). */
  get idle(): boolean {
    return this.state === State.Idle;
  }

  /** Waiting for a response that has not begun. */
  get awaitingHead(): boolean {
    return this.state === State.Head && this.pending === null;
  }

  /** The body runs until the connection closes. */
  get untilClose(): boolean {
    return this.state === State.UntilClose;
  }

  /**
   * The connection ended. A body delimited by the close ends here; anything else was cut short
   * (false).
   */
  close(): boolean {
    if (this.state !== State.UntilClose) return this.state === State.Idle;
    this.state = State.Idle;
    this.events.end(null);
    return true;
  }

  /** Parse what was read. Throws HttpParseError; bytes after the response are an error too. */
  execute(input: Buffer): void {
    let buf = input;
    if (this.pending) {
      buf = Buffer.concat([this.pending, input]);
      this.pending = null;
    }
    let pos = 0;
    while (pos < buf.length) {
      switch (this.state) {
        case State.Idle:
          throw new HttpParseError('HPE_INVALID_CONSTANT', 'data after the end of the response');
        case State.Head: {
          const end = buf.indexOf(CRLF2, pos);
          if (end < 0) {
            if (buf.length - pos > this.maxHeaderBytes) throw overflow(this.maxHeaderBytes);
            this.pending = buf.subarray(pos);
            return;
          }
          if (end - pos > this.maxHeaderBytes) throw overflow(this.maxHeaderBytes);
          const text = buf.toString('latin1', pos, end);
          pos = end + 4;
          this.onHead(text);
          break;
        }
        case State.Framed: {
          const end = this.decoder!.feed(buf, pos);
          if (this.state === State.Framed) return; // all of it was body
          pos = end;
          break;
        }
        case State.UntilClose:
          this.events.body(pos === 0 ? buf : buf.subarray(pos));
          return;
      }
    }
  }

  private frame(framing: { kind: 'length'; length: number } | { kind: 'chunked' }): void {
    this.state = State.Framed;
    this.decoder = new BodyDecoder(
      framing,
      this.maxHeaderBytes,
      (chunk) => this.events.body(chunk),
      (trailers) => {
        this.state = State.Idle;
        this.decoder = null;
        this.events.end(trailers.length ? trailers : null);
      },
    );
  }

  private onHead(text: string): void {
    const lines = text.split('\r\n');
    const line = lines[0]!;
    // HTTP/1.x SSS[ reason]
    if (!line.startsWith('HTTP/1.') || line.length < 12 || line.charCodeAt(8) !== 32) {
      throw new HttpParseError('HPE_INVALID_CONSTANT', `not an HTTP/1.x status line: ${JSON.stringify(line.slice(0, 64))}`);
    }
    const minor = line.charCodeAt(7) - 48;
    const status = Number(line.slice(9, 12));
    if ((minor !== 0 && minor !== 1) || !/^\d{3}$/.test(line.slice(9, 12)) || status < 100 || (line.length > 12 && line.charCodeAt(12) !== 32)) {
      throw new HttpParseError('HPE_INVALID_STATUS', `invalid status line: ${JSON.stringify(line.slice(0, 64))}`);
    }
    const head: ResponseHead = { status, statusText: line.length > 13 ? intern(line.slice(13)) : '', minor, headers: parseFields(lines, 1) };
    if (status < 200 && status !== 101) {
      this.events.informational(head);
      return; // the final response follows
    }
    let length: number | null = null;
    let chunked = false;
    let transferEncoded = false;
    let close = minor === 0;
    for (const [name, value] of head.headers) {
      switch (name.length) {
        case 14:
          if (name.toLowerCase() === 'content-length') {
            const n = parseLength(value);
            if (n < 0) throw new HttpParseError('HPE_INVALID_CONTENT_LENGTH', `invalid Content-Length: ${JSON.stringify(value)}`);
            if (length !== null && length !== n) throw new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'conflicting Content-Length fields');
            length = n;
          }
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') {
            transferEncoded = true;
            // Chunked must be the last coding (RFC 9112 §6.3): anything else runs to the close.
            chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
          }
          break;
        case 10:
          if (name.toLowerCase() === 'connection') {
            const v = value.toLowerCase();
            if (v === 'keep-alive') close = false;
            else if (v === 'close' || /(?:^|,)\s*close\s*(?:,|$)/.test(v)) close = true;
            else if (minor === 0 && /(?:^|,)\s*keep-alive\s*(?:,|$)/.test(v)) close = false;
          }
          break;
      }
    }
    this.events.head(head);
    if (this.noBody || status === 204 || status === 304 || status === 101) {
      this.keepAlive = !close && status !== 101;
      this.state = State.Idle;
      this.events.end(null);
      return;
    }
    if (transferEncoded) {
      // Transfer-Encoding overrides Content-Length (§6.3 point 3); such a connection is not reused.
      this.keepAlive = !close && chunked && length === null;
      if (chunked) this.frame({ kind: 'chunked' });
      else this.state = State.UntilClose;
      return;
    }
    if (length !== null) {
      this.keepAlive = !close;
      if (length > 0) this.frame({ kind: 'length', length });
      else {
        this.state = State.Idle;
        this.events.end(null);
      }
      return;
    }
    this.keepAlive = false;
    this.state = State.UntilClose;
  }
}

/** A Content-Length value as a number, or -1 when it is not one (digits only, OWS around). */
function parseLength(value: string): number {
  let n = 0;
  let digits = 0;
  let i = 0;
  let end = value.length;
  while (i < end && (value.charCodeAt(i) === 32 || value.charCodeAt(i) === 9)) i++;
  while (end > i && (value.charCodeAt(end - 1) === 32 || value.charCodeAt(end - 1) === 9)) end--;
  for (; i < end; i++) {
    const c = value.charCodeAt(i) - 48;
    if (c < 0 || c > 9 || digits >= 15) return -1;
    n = n * 10 + c;
    digits++;
  }
  return digits === 0 ? -1 : n;
}

function overflow(max: number): HttpParseError {
  return new HttpParseError('HPE_HEADER_OVERFLOW', `response headers exceed ${max} bytes`);
}

/** Field lines (from `from`) into pairs; an obsolete folded line continues the previous value. */
function parseFields(lines: string[], from: number): HeaderPairs {
  const out: HeaderPairs = [];
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    if (MESSAGE_BREAKING.test(line)) throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'a field line with CR, LF or NUL');
    const c = line.charCodeAt(0);
    if (c === 32 || c === 9) {
      const last = out[out.length - 1];
      if (!last) throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'a folded line before any field');
      last[1] = `${last[1]} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', `invalid header line: ${JSON.stringify(line.slice(0, 64))}`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', `invalid header name: ${JSON.stringify(name.slice(0, 64))}`);
    out.push([intern(name), intern(trimOws(line, colon + 1))]);
  }
  return out;
}
