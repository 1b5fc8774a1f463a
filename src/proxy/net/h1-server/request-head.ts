import type { HeaderPairs } from '../../core/flow.js';
import { HttpParseError, MESSAGE_BREAKING, TOKEN, trimOws } from '../../core/http-syntax.js';
import { intern } from '../../core/intern.js';

/** A request the server cannot take. */
export { HttpParseError as RequestParseError };

/** How the request body is framed (RFC 9112 §6.3 for requests). */
export type RequestFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

export interface RequestHead {
  method: string;
  url: string;
  /** 0 or 1 (HTTP/1.0 or HTTP/1.1). */
  minor: number;
  headers: HeaderPairs;
  framing: RequestFraming;
  /** The client wants the connection kept open after this exchange. */
  keepAlive: boolean;
  /** `Connection: upgrade` with an `Upgrade` field. */
  upgrade: boolean;
  /** A Content-Length field was sent (framing says none for a length of 0). */
  declaredLength: boolean;
}

/** A request-target: visible characters only (no spaces, no controls). */
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;

/** Parse the request line and fields (the head without its final empty line). */
export function parseRequestHead(text: string): RequestHead {
  const lines = text.split('\r\n');
  const line = lines[0]!;
  const sp1 = line.indexOf(' ');
  const sp2 = line.lastIndexOf(' ');
  if (sp1 <= 0 || sp2 <= sp1) throw new HttpParseError('HPE_INVALID_METHOD', `not a request line: ${JSON.stringify(line.slice(0, 64))}`);
  const method = intern(line.slice(0, sp1));
  const url = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (!TOKEN.test(method)) throw new HttpParseError('HPE_INVALID_METHOD', `invalid method: ${JSON.stringify(method.slice(0, 32))}`);
  if (!TARGET.test(url)) throw new HttpParseError('HPE_INVALID_URL', `invalid request-target: ${JSON.stringify(url.slice(0, 64))}`);
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') throw new HttpParseError('HPE_INVALID_VERSION', `unsupported protocol version: ${JSON.stringify(version.slice(0, 16))}`);
  const minor = version === 'HTTP/1.1' ? 1 : 0;

  const headers: HeaderPairs = new Array(lines.length - 1);
  let length: number | null = null;
  let transferEncoding: string | null = null;
  let connection = '';
  let hasUpgrade = false;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    const colon = l.indexOf(':');
    if (colon <= 0) {
      // Obsolete line folding included: a server must reject it or unfold it (RFC 9112 §5.2).
      throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', `invalid header line: ${JSON.stringify(l.slice(0, 64))}`);
    }
    const name = l.slice(0, colon);
    // Whitespace before the colon must be rejected (RFC 9112 §5.1).
    if (!TOKEN.test(name)) throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', `invalid header name: ${JSON.stringify(name.slice(0, 64))}`);
    const value = trimOws(l, colon + 1);
    if (MESSAGE_BREAKING.test(value)) throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', `invalid value in header ${name}`);
    headers[i - 1] = [intern(name), intern(value)];
    switch (name.length) {
      case 14:
        if (name.toLowerCase() === 'content-length') {
          const n = /^\d{1,15}$/.test(value) ? Number(value) : -1;
          if (n < 0 || (length !== null && length !== n)) throw new HttpParseError('HPE_INVALID_CONTENT_LENGTH', `invalid Content-Length: ${JSON.stringify(value.slice(0, 32))}`);
          length = n;
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') transferEncoding = transferEncoding === null ? value : `${transferEncoding}, ${value}`;
        break;
      case 10:
        if (name.toLowerCase() === 'connection') connection = connection ? `${connection},${value.toLowerCase()}` : value.toLowerCase();
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') hasUpgrade = true;
        break;
    }
  }

  let framing: RequestFraming;
  if (transferEncoding !== null) {
    // Both framings at once is how requests are smuggled: refuse (RFC 9112 §6.1 allows it).
    if (length !== null) throw new HttpParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'both Transfer-Encoding and Content-Length');
    // Chunked must be the final coding of a request, or its length is unknowable (§6.3 point 4).
    if (!/(?:^|,)\s*chunked\s*$/i.test(transferEncoding)) throw new HttpParseError('HPE_INVALID_TRANSFER_ENCODING', `Transfer-Encoding does not end in chunked: ${JSON.stringify(transferEncoding.slice(0, 64))}`);
    framing = { kind: 'chunked' };
  } else if (length !== null && length > 0) framing = { kind: 'length', length };
  else framing = { kind: 'none' };

  let keepAlive = minor === 1;
  if (connection) {
    if (hasToken(connection, 'close')) keepAlive = false;
    else if (minor === 0 && hasToken(connection, 'keep-alive')) keepAlive = true;
  }
  const upgrade = hasUpgrade && connection !== '' && hasToken(connection, 'upgrade');
  return { method, url, minor, headers, framing, keepAlive, upgrade, declaredLength: length !== null };
}

/** Does a lowercased, comma-separated list hold this token? */
function hasToken(list: string, token: string): boolean {
  if (list === token) return true;
  for (const part of list.split(',')) if (part.trim() === token) return true;
  return false;
}
