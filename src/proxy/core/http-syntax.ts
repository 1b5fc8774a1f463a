/** Small pieces of HTTP's message syntax (RFC 9110 §5, RFC 9112), shared by every parser and writer. */

/**
 * A message that cannot be parsed (a request by the server, a response by the upstream client).
 * `code` follows Node's parser codes, which the 400/431 mapping and the error classifier know.
 */
export class HttpParseError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpParseError';
  }
}

/** RFC 9110 §5.6.2 token: methods and field names. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** CR, LF or NUL: a field value or reason phrase holding one could split the message. */
export const MESSAGE_BREAKING = /[\0\r\n]/;

/** `s` from `from` on, without the optional whitespace (SP, HTAB) around it (RFC 9110 §5.6.3). */
export function trimOws(s: string, from = 0): string {
  let a = from;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Methods a request may be sent again for when nothing of it was answered (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method.toUpperCase());
}
