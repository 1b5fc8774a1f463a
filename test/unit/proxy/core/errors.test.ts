import { describe, expect, it } from 'vitest';
import { ProxyError, classifyUpstreamError, errorPage, statusForError, titleForError } from '../../../../src/proxy/core/errors.js';
import type { FlowErrorCode } from '../../../../src/proxy/core/flow.js';

/**
 * Every code with the status the client must get. `Record<FlowErrorCode, …>` makes this table
 * exhaustive at compile time: a new code without a row here is a type error.
 */
const EXPECTED_STATUS: Record<FlowErrorCode, number> = {
  BAD_REQUEST: 400,
  HEADERS_TOO_LARGE: 431,
  CLIENT_TIMEOUT: 408,
  CLIENT_ABORTED: 502,
  COMMAND_FAILED: 502,
  COMMAND_TIMEOUT: 504,
  UPSTREAM_DNS: 502,
  UPSTREAM_REFUSED: 502,
  UPSTREAM_RESET: 502,
  UPSTREAM_TIMEOUT: 504,
  UPSTREAM_UNREACHABLE: 502,
  UPSTREAM_TLS: 502,
  UPSTREAM_CERT_EXPIRED: 502,
  UPSTREAM_CERT_SELF_SIGNED: 502,
  UPSTREAM_CERT_UNTRUSTED: 502,
  UPSTREAM_CERT_HOSTNAME: 502,
  UPSTREAM_PROTOCOL: 502,
  CLIENT_TLS: 502,
  TUNNEL_FAILED: 502,
  STREAM_RESET: 502,
  KILLED: 502,
  RULE_FAILED: 502,
  INTERNAL: 502,
};
const ALL_CODES = Object.keys(EXPECTED_STATUS) as FlowErrorCode[];

describe('statusForError', () => {
  it.each(Object.entries(EXPECTED_STATUS) as Array<[FlowErrorCode, number]>)('%s → %i', (code, status) => {
    expect(statusForError(code)).toBe(status);
  });

  it('throws on a code outside the union (assertNever)', () => {
    expect(() => statusForError('NOPE' as FlowErrorCode)).toThrow(/unexpected error code/);
  });
});

describe('titleForError', () => {
  it.each(ALL_CODES)('%s has a title', (code) => {
    expect(titleForError(code)).toMatch(/\S/);
  });

  it('gives every code its own title', () => {
    expect(new Set(ALL_CODES.map(titleForError)).size).toBe(ALL_CODES.length);
  });
});

describe('ProxyError', () => {
  it('carries code, message and cause, and converts to a flow error', () => {
    const cause = new Error('inner');
    const e = new ProxyError('KILLED', 'killed by user', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ProxyError');
    expect(e.code).toBe('KILLED');
    expect(e.cause).toBe(cause);
    expect(e.toFlowError()).toEqual({ code: 'KILLED', message: 'killed by user' });
  });
});

function nodeError(code: string | undefined, message: string): Error {
  const e = new Error(message) as Error & { code?: string };
  if (code !== undefined) e.code = code;
  return e;
}

describe('classifyUpstreamError', () => {
  it.each<[string | undefined, string, FlowErrorCode]>([
    ['ENOTFOUND', 'getaddrinfo ENOTFOUND nope.invalid', 'UPSTREAM_DNS'],
    ['EAI_AGAIN', 'getaddrinfo EAI_AGAIN slow.example', 'UPSTREAM_DNS'],
    ['EAI_NONAME', 'getaddrinfo EAI_NONAME', 'UPSTREAM_DNS'],
    ['EAI_FAIL', 'getaddrinfo EAI_FAIL', 'UPSTREAM_DNS'],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1', 'UPSTREAM_REFUSED'],
    ['ECONNRESET', 'read ECONNRESET', 'UPSTREAM_RESET'],
    // Node's http client reports a close before the response as ECONNRESET "socket hang up" …
    ['ECONNRESET', 'socket hang up', 'UPSTREAM_RESET'],
    // … and some paths give the message without a code
    [undefined, 'socket hang up', 'UPSTREAM_RESET'],
    ['EPIPE', 'write EPIPE', 'UPSTREAM_RESET'],
    ['ETIMEDOUT', 'connect ETIMEDOUT', 'UPSTREAM_TIMEOUT'],
    ['UPSTREAM_TIMEOUT', 'no response headers within 60000 ms', 'UPSTREAM_TIMEOUT'],
    ['EHOSTUNREACH', 'connect EHOSTUNREACH', 'UPSTREAM_UNREACHABLE'],
    ['ENETUNREACH', 'connect ENETUNREACH', 'UPSTREAM_UNREACHABLE'],
    ['EADDRNOTAVAIL', 'connect EADDRNOTAVAIL', 'UPSTREAM_UNREACHABLE'],
    // certificate verification (OpenSSL codes as Node reports them)
    ['CERT_HAS_EXPIRED', 'certificate has expired', 'UPSTREAM_CERT_EXPIRED'],
    ['CERT_NOT_YET_VALID', 'certificate is not yet valid', 'UPSTREAM_CERT_EXPIRED'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate', 'UPSTREAM_CERT_SELF_SIGNED'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain', 'UPSTREAM_CERT_SELF_SIGNED'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate', 'UPSTREAM_CERT_UNTRUSTED'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate', 'UPSTREAM_CERT_UNTRUSTED'],
    ['UNABLE_TO_GET_ISSUER_CERT', 'unable to get issuer certificate', 'UPSTREAM_CERT_UNTRUSTED'],
    ['CERT_UNTRUSTED', 'certificate not trusted', 'UPSTREAM_CERT_UNTRUSTED'],
    ['CERT_SIGNATURE_FAILURE', 'certificate signature failure', 'UPSTREAM_CERT_UNTRUSTED'],
    ['CERT_REVOKED', 'certificate revoked', 'UPSTREAM_CERT_UNTRUSTED'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames", 'UPSTREAM_CERT_HOSTNAME'],
    // other TLS failures
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number', 'UPSTREAM_TLS'],
    ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'tlsv1 alert protocol version', 'UPSTREAM_TLS'],
    ['ERR_TLS_HANDSHAKE_TIMEOUT', 'TLS handshake timeout', 'UPSTREAM_TLS'],
    // parser errors: the upstream spoke bad HTTP
    ['HPE_INVALID_CONSTANT', 'Parse Error: Expected HTTP/', 'UPSTREAM_PROTOCOL'],
    ['HPE_INVALID_STATUS', 'Parse Error: Invalid status code', 'UPSTREAM_PROTOCOL'],
    ['HPE_INVALID_HEADER_TOKEN', 'Parse Error: Invalid header value char', 'UPSTREAM_PROTOCOL'],
    ['HPE_INVALID_CHUNK_SIZE', 'Parse Error: Invalid character in chunk size', 'UPSTREAM_PROTOCOL'],
    ['HPE_UNEXPECTED_CONTENT_LENGTH', 'Parse Error: Content-Length can not be used with Transfer-Encoding', 'UPSTREAM_PROTOCOL'],
    ['HPE_INVALID_CONTENT_LENGTH', 'Parse Error: Invalid Content-Length', 'UPSTREAM_PROTOCOL'],
    ['HPE_HEADER_OVERFLOW', 'Parse Error: Header overflow', 'UPSTREAM_PROTOCOL'],
    ['ERR_HTTP2_PROTOCOL_ERROR', 'Protocol error', 'UPSTREAM_PROTOCOL'],
    // HTTP/2 stream and session failures
    ['ERR_HTTP2_STREAM_ERROR', 'Stream closed with error code NGHTTP2_INTERNAL_ERROR', 'STREAM_RESET'],
    ['ERR_HTTP2_GOAWAY_SESSION', 'New streams cannot be created after receiving a GOAWAY', 'STREAM_RESET'],
    ['ERR_HTTP2_SESSION_ERROR', 'Session closed with error code 2', 'STREAM_RESET'],
    ['ERR_HTTP2_STREAM_CANCEL', 'The pending stream has been canceled', 'STREAM_RESET'],
    // anything else
    ['EWHATEVER', 'odd failure', 'UPSTREAM_UNREACHABLE'],
    [undefined, 'no code at all', 'UPSTREAM_UNREACHABLE'],
  ])('%s (%s) → %s', (code, message, expected) => {
    const err = nodeError(code, message);
    const classified = classifyUpstreamError(err);
    expect(classified).toBeInstanceOf(ProxyError);
    expect(classified.code).toBe(expected);
    expect(classified.cause).toBe(err);
    expect(classified.message).not.toBe('');
  });

  it.each<[string, string]>([
    ['ENOTFOUND', 'ENOTFOUND'],
    ['CERT_HAS_EXPIRED', 'CERT_HAS_EXPIRED'],
    ['HPE_INVALID_STATUS', 'HPE_INVALID_STATUS'],
    ['EWHATEVER', 'EWHATEVER'],
  ])('keeps the Node code %s in the message', (code, needle) => {
    expect(classifyUpstreamError(nodeError(code, 'detail text')).message).toContain(needle);
  });

  it('passes a ProxyError through unchanged', () => {
    const e = new ProxyError('KILLED', 'killed');
    expect(classifyUpstreamError(e)).toBe(e);
  });

  it.each<[string, unknown]>([
    ['a string', 'boom'],
    ['null', null],
    ['undefined', undefined],
    ['a plain object', { message: 'plain' }],
    ['a number', 42],
  ])('survives %s', (_name, value) => {
    const e = classifyUpstreamError(value);
    expect(e).toBeInstanceOf(ProxyError);
    expect(e.code).toBe('UPSTREAM_UNREACHABLE');
  });
});

describe('errorPage', () => {
  it.each(ALL_CODES)('%s: status, content type, code and title on the page', (code) => {
    const page = errorPage({ code, message: 'detail' }, 'http://example.com/x');
    expect(page.status).toBe(EXPECTED_STATUS[code]);
    expect(page.contentType).toBe('text/html; charset=utf-8');
    expect(page.body).toContain(`<b>${code}</b>`);
    expect(page.body).toContain(`<h1>${page.status} `);
    expect(page.body).toContain('detail');
  });

  it('escapes HTML in the message, the URL and the title', () => {
    const page = errorPage(
      { code: 'UPSTREAM_CERT_EXPIRED', message: `<script>alert("x")</script> & 'q'` },
      `http://example.com/<img src=x onerror=alert(1)>?a=1&b="2"`,
    );
    expect(page.body).not.toMatch(/<script>|<img/);
    expect(page.body).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;q&#39;');
    expect(page.body).toContain('http://example.com/&#60;img src=x onerror=alert(1)&#62;?a=1&#38;b=&#34;2&#34;');
    // the title has an apostrophe ("server's"): escaped too
    expect(page.body).toContain('server&#39;s certificate has expired');
  });

  it('leaves the URL paragraph out when there is no URL', () => {
    const page = errorPage({ code: 'BAD_REQUEST', message: 'bad' }, null);
    expect(page.status).toBe(400);
    expect(page.body).not.toContain('While fetching');
    expect(errorPage({ code: 'BAD_REQUEST', message: 'bad' }, 'http://a/').body).toContain('While fetching <code>http://a/</code>');
  });
});
