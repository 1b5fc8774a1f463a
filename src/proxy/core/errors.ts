import { assertNever } from './assert-never.js';
import type { FlowError, FlowErrorCode } from './flow.js';

/** An error with a stable code; traffic errors become these and then a flow `error`. */
export class ProxyError extends Error {
  constructor(
    readonly code: FlowErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProxyError';
  }

  toFlowError(): FlowError {
    return { code: this.code, message: this.message };
  }
}

/** The HTTP status a client gets for an error code. One exhaustive switch, on purpose. */
export function statusForError(code: FlowErrorCode): number {
  switch (code) {
    case 'BAD_REQUEST':
      return 400;
    case 'HEADERS_TOO_LARGE':
      return 431;
    case 'CLIENT_TIMEOUT':
      return 408;
    case 'UPSTREAM_TIMEOUT':
      return 504;
    case 'UPSTREAM_DNS':
    case 'UPSTREAM_REFUSED':
    case 'UPSTREAM_RESET':
    case 'UPSTREAM_UNREACHABLE':
    case 'UPSTREAM_TLS':
    case 'UPSTREAM_CERT_EXPIRED':
    case 'UPSTREAM_CERT_SELF_SIGNED':
    case 'UPSTREAM_CERT_UNTRUSTED':
    case 'UPSTREAM_CERT_HOSTNAME':
    case 'UPSTREAM_PROTOCOL':
    case 'TUNNEL_FAILED':
    case 'STREAM_RESET':
      return 502;
    case 'COMMAND_TIMEOUT':
      return 504;
    case 'KILLED':
    case 'RULE_FAILED':
    case 'COMMAND_FAILED':
    case 'INTERNAL':
    case 'CLIENT_ABORTED':
    case 'CLIENT_TLS':
      return 502;
    default:
      return assertNever(code, 'error code');
  }
}

/** Short human title for an error page. */
export function titleForError(code: FlowErrorCode): string {
  switch (code) {
    case 'BAD_REQUEST':
      return 'Malformed request';
    case 'HEADERS_TOO_LARGE':
      return 'Request headers too large';
    case 'CLIENT_TIMEOUT':
      return 'Request timed out';
    case 'UPSTREAM_TIMEOUT':
      return 'The upstream server did not answer in time';
    case 'UPSTREAM_DNS':
      return 'The upstream host name could not be resolved';
    case 'UPSTREAM_REFUSED':
      return 'The upstream server refused the connection';
    case 'UPSTREAM_RESET':
      return 'The upstream server reset the connection';
    case 'UPSTREAM_UNREACHABLE':
      return 'The upstream server is unreachable';
    case 'UPSTREAM_TLS':
      return 'TLS handshake with the upstream server failed';
    case 'UPSTREAM_CERT_EXPIRED':
      return "The upstream server's certificate has expired";
    case 'UPSTREAM_CERT_SELF_SIGNED':
      return "The upstream server's certificate is self-signed";
    case 'UPSTREAM_CERT_UNTRUSTED':
      return "The upstream server's certificate is not trusted";
    case 'UPSTREAM_CERT_HOSTNAME':
      return "The upstream server's certificate does not match the host name";
    case 'UPSTREAM_PROTOCOL':
      return 'The upstream server sent an invalid response';
    case 'TUNNEL_FAILED':
      return 'The tunnel to the upstream server failed';
    case 'STREAM_RESET':
      return 'The stream was reset';
    case 'KILLED':
      return 'The flow was killed in proxyctl';
    case 'RULE_FAILED':
      return 'A proxyctl rule failed';
    case 'COMMAND_FAILED':
      return 'The command of a responder rule failed';
    case 'COMMAND_TIMEOUT':
      return 'The command of a responder rule ran out of time';
    case 'INTERNAL':
      return 'proxyctl hit an internal error';
    case 'CLIENT_ABORTED':
      return 'The client went away';
    case 'CLIENT_TLS':
      return 'TLS handshake with the client failed';
    default:
      return assertNever(code, 'error code');
  }
}

/**
 * Classify a Node.js error from the upstream side into a stable code. Node reports DNS, socket and
 * certificate problems through `err.code` (OpenSSL verification codes for certificates).
 */
export function classifyUpstreamError(err: unknown): ProxyError {
  if (err instanceof ProxyError) return err;
  const e = err as { code?: string; message?: string; reason?: string } | undefined;
  const code = e?.code ?? '';
  const detail = e?.message ?? String(err);
  const make = (c: FlowErrorCode, msg: string) => new ProxyError(c, msg, { cause: err });
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return make('UPSTREAM_DNS', `DNS lookup failed (${code}): ${detail}`);
    case 'ECONNREFUSED':
      return make('UPSTREAM_REFUSED', `connection refused: ${detail}`);
    case 'ECONNRESET':
    case 'EPIPE':
      return make('UPSTREAM_RESET', `connection reset by the upstream server: ${detail}`);
    case 'ETIMEDOUT':
    case 'UPSTREAM_TIMEOUT':
      return make('UPSTREAM_TIMEOUT', `timed out: ${detail}`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return make('UPSTREAM_UNREACHABLE', `host unreachable (${code}): ${detail}`);
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return make('UPSTREAM_CERT_EXPIRED', `certificate not valid now (${code}): ${detail}`);
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return make('UPSTREAM_CERT_SELF_SIGNED', `self-signed certificate (${code}): ${detail}`);
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'CERT_UNTRUSTED':
    case 'CERT_SIGNATURE_FAILURE':
    case 'CERT_REVOKED':
      return make('UPSTREAM_CERT_UNTRUSTED', `certificate not trusted (${code}): ${detail}`);
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return make('UPSTREAM_CERT_HOSTNAME', `certificate does not match the host name: ${detail}`);
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_STATUS':
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_HEADER_OVERFLOW':
    case 'ERR_HTTP2_PROTOCOL_ERROR':
      return make('UPSTREAM_PROTOCOL', `invalid response (${code}): ${detail}`);
    case 'ERR_HTTP2_STREAM_ERROR':
    case 'ERR_HTTP2_GOAWAY_SESSION':
    case 'ERR_HTTP2_SESSION_ERROR':
    case 'ERR_HTTP2_STREAM_CANCEL':
      return make('STREAM_RESET', `HTTP/2 stream failed (${code}): ${detail}`);
    default:
      if (code === 'EPROTO' || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /SSL|TLS/.test(code)) {
        return make('UPSTREAM_TLS', `TLS failed (${code}): ${detail}`);
      }
      if (detail === 'socket hang up') {
        return make('UPSTREAM_RESET', 'the upstream server closed the connection without answering');
      }
      return make('UPSTREAM_UNREACHABLE', `${code ? `${code}: ` : ''}${detail}`);
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The body of the error page the client sees. Short, plain, and says why. */
export function errorPage(error: FlowError, url: string | null): { status: number; contentType: string; body: string } {
  const status = statusForError(error.code);
  const title = titleForError(error.code);
  const body =
    `<!doctype html><html><head><meta charset="utf-8"><title>${status} ${escapeHtml(title)}</title></head>` +
    `<body><h1>${status} ${escapeHtml(title)}</h1>` +
    (url ? `<p>While fetching <code>${escapeHtml(url)}</code></p>` : '') +
    `<p><b>${error.code}</b>: ${escapeHtml(error.message)}</p>` +
    `<hr><p>proxyctl</p></body></html>\n`;
  return { status, contentType: 'text/html; charset=utf-8', body };
}
