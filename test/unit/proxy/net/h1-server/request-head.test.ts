/**
 * The request head parser of the proxy's own HTTP/1.x server, without sockets: request line
 * (RFC 9112 §3), fields (§5: OWS, no whitespace before the colon, no obs-fold), body framing
 * (§6.3: Content-Length, chunked last, never both) and the keep-alive / upgrade decisions (§9.3,
 * RFC 9110 §7.8). Errors carry llhttp's codes, which the 400/431 mapping knows.
 */
import { describe, expect, it } from 'vitest';
import { parseRequestHead, RequestParseError, type RequestHead } from '../../../../../src/proxy/net/h1-server/request-head.js';

/** Parse a head given as its lines (request line first), joined the way the server hands it over. */
const parse = (...lines: string[]): RequestHead => parseRequestHead(lines.join('\r\n'));

/** The code of the RequestParseError thrown for these lines (fails when nothing is thrown). */
function errorCode(...lines: string[]): string {
  try {
    parse(...lines);
  } catch (err) {
    expect(err).toBeInstanceOf(RequestParseError);
    return (err as RequestParseError).code;
  }
  throw new Error(`accepted: ${JSON.stringify(lines)}`);
}

describe('request line', () => {
  it.each([
    ['GET / HTTP/1.1', 'GET', '/', 1],
    ['POST /submit?a=1&b=%20 HTTP/1.0', 'POST', '/submit?a=1&b=%20', 0],
    ['GET http://example.com:8080/x?y#frag HTTP/1.1', 'GET', 'http://example.com:8080/x?y#frag', 1],
    ['CONNECT example.com:443 HTTP/1.1', 'CONNECT', 'example.com:443', 1],
    ['CONNECT [::1]:8443 HTTP/1.0', 'CONNECT', '[::1]:8443', 0],
    ['OPTIONS * HTTP/1.1', 'OPTIONS', '*', 1],
    ['PROPFIND /dav/ HTTP/1.1', 'PROPFIND', '/dav/', 1],
    ['M-SEARCH * HTTP/1.1', 'M-SEARCH', '*', 1],
    ['get /lower-case-method HTTP/1.1', 'get', '/lower-case-method', 1],
    // obs-text in the target is passed on as received (latin1), not rejected.
    ['GET /caf\xe9 HTTP/1.1', 'GET', '/caf\xe9', 1],
  ])('%j → %s %s (minor %d)', (line, method, url, minor) => {
    const h = parse(line, 'Host: example.com');
    expect({ method: h.method, url: h.url, minor: h.minor }).toEqual({ method, url, minor });
  });

  it('accepts a request without any field', () => {
    expect(parse('GET / HTTP/1.1')).toMatchObject({ method: 'GET', url: '/', headers: [], framing: { kind: 'none' } });
  });

  it.each([
    ['GET / HTTP/2.0', 'HPE_INVALID_VERSION'],
    ['GET / HTTP/1.2', 'HPE_INVALID_VERSION'],
    ['GET / HTTP/0.9', 'HPE_INVALID_VERSION'],
    ['GET / http/1.1', 'HPE_INVALID_VERSION'],
    ['GET / HTTP/1.1x', 'HPE_INVALID_VERSION'],
    ['GET / HTTP/1', 'HPE_INVALID_VERSION'],
    // The target would run to the last space: it then holds a space.
    ['GET / HTTP/1.1 ', 'HPE_INVALID_URL'],
    ['GET / FOO', 'HPE_INVALID_VERSION'],
    ['GET /a b HTTP/1.1', 'HPE_INVALID_URL'],
    ['GET  / HTTP/1.1', 'HPE_INVALID_URL'],
    ['GET /\x7f HTTP/1.1', 'HPE_INVALID_URL'],
    ['GET /\x01 HTTP/1.1', 'HPE_INVALID_URL'],
    ['GET /\t HTTP/1.1', 'HPE_INVALID_URL'],
    ['G@T / HTTP/1.1', 'HPE_INVALID_METHOD'],
    ['GE(T / HTTP/1.1', 'HPE_INVALID_METHOD'],
    [' GET / HTTP/1.1', 'HPE_INVALID_METHOD'],
    ['GET /', 'HPE_INVALID_METHOD'],
    ['GET', 'HPE_INVALID_METHOD'],
    ['', 'HPE_INVALID_METHOD'],
    ['\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'HPE_INVALID_METHOD'],
  ])('rejects %j with %s', (line, code) => {
    expect(errorCode(line, 'Host: x')).toBe(code);
  });
});

describe('fields', () => {
  it('keeps names, values and order as received, trimming only OWS around the value', () => {
    const h = parse('GET / HTTP/1.1', 'Host:   example.com \t', 'X-Empty:', 'x-MiXeD:\t a  b \t', 'Accept: */*', 'X-Colon: a:b: c', 'X-Obs-Text: caf\xe9');
    expect(h.headers).toEqual([
      ['Host', 'example.com'],
      ['X-Empty', ''],
      ['x-MiXeD', 'a  b'],
      ['Accept', '*/*'],
      ['X-Colon', 'a:b: c'],
      ['X-Obs-Text', 'caf\xe9'],
    ]);
  });

  it('keeps repeated fields as separate pairs', () => {
    expect(parse('GET / HTTP/1.1', 'Cookie: a=1', 'Cookie: b=2').headers).toEqual([
      ['Cookie', 'a=1'],
      ['Cookie', 'b=2'],
    ]);
  });

  it.each([
    ['whitespace before the colon', 'Host : example.com'],
    ['a tab before the colon', 'Host\t: example.com'],
    ['obs-fold with spaces', ' continued'],
    ['obs-fold with a tab', '\tcontinued'],
    ['obs-fold that contains a colon', '  X-Folded: value'],
    ['a line without a colon', 'NoColonHere'],
    ['an empty name', ': value'],
    ['a separator in the name', 'X(A): 1'],
    ['a slash in the name', 'X/A: 1'],
    ['a non-ASCII name', 'X-\xe9: 1'],
    ['a bare CR in the value', 'X-A: a\rb'],
    ['a bare LF in the value', 'X-A: a\nb'],
    ['a NUL in the value', 'X-A: a\0b'],
    ['a CR at the end of the value', 'X-A: a\r'],
  ])('rejects %s (HPE_INVALID_HEADER_TOKEN)', (_what, field) => {
    expect(errorCode('GET / HTTP/1.1', 'Host: x', field)).toBe('HPE_INVALID_HEADER_TOKEN');
  });

  it('rejects obs-fold right after the request line', () => {
    expect(errorCode('GET / HTTP/1.1', ' Host: x')).toBe('HPE_INVALID_HEADER_TOKEN');
  });
});

describe('body framing', () => {
  it.each([
    [['Content-Length: 5'], { kind: 'length', length: 5 }],
    [['content-length: 42'], { kind: 'length', length: 42 }],
    [['CONTENT-LENGTH:  7 '], { kind: 'length', length: 7 }],
    [['Content-Length: 007'], { kind: 'length', length: 7 }],
    [['Content-Length: 999999999999999'], { kind: 'length', length: 999999999999999 }],
    [['Content-Length: 0'], { kind: 'none' }],
    [['Content-Length: 5', 'Content-Length: 5'], { kind: 'length', length: 5 }],
    [[], { kind: 'none' }],
    [['Transfer-Encoding: chunked'], { kind: 'chunked' }],
    [['Transfer-Encoding: Chunked'], { kind: 'chunked' }],
    [['transfer-encoding: gzip, chunked'], { kind: 'chunked' }],
    [['Transfer-Encoding: gzip,chunked'], { kind: 'chunked' }],
    [['Transfer-Encoding: gzip', 'Transfer-Encoding: chunked'], { kind: 'chunked' }],
    [['Transfer-Encoding: chunked '], { kind: 'chunked' }],
  ])('%j → %j', (fields, framing) => {
    expect(parse('POST / HTTP/1.1', 'Host: x', ...fields).framing).toEqual(framing);
  });

  it.each([
    [['Content-Length: 5', 'Content-Length: 6'], 'HPE_INVALID_CONTENT_LENGTH'],
    [['Content-Length: 5, 5'], 'HPE_INVALID_CONTENT_LENGTH'],
    [['Content-Length: -1'], 'HPE_INVALID_CONTENT_LENGTH'],
    [['Content-Length: +5'], 'HPE_INVALID_CONTENT_LENGTH'],
    [['Content-Length: 0x10'], 'HPE_INVALID_CONTENT_LENGTH'],
    [['Content-Length: 5a'], 'HPE_INVALID_CONTENT_LENGTH'],
    [['Content-Length: 1.0'], 'HPE_INVALID_CONTENT_LENGTH'],
    [['Content-Length:'], 'HPE_INVALID_CONTENT_LENGTH'],
    [['Content-Length: 1 2'], 'HPE_INVALID_CONTENT_LENGTH'],
    [['Content-Length: 1234567890123456'], 'HPE_INVALID_CONTENT_LENGTH'],
    [['Content-Length: 5', 'Transfer-Encoding: chunked'], 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    [['Transfer-Encoding: chunked', 'Content-Length: 5'], 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    [['Transfer-Encoding: chunked', 'Content-Length: 0'], 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    [['Transfer-Encoding: gzip'], 'HPE_INVALID_TRANSFER_ENCODING'],
    [['Transfer-Encoding: identity'], 'HPE_INVALID_TRANSFER_ENCODING'],
    [['Transfer-Encoding: chunked, gzip'], 'HPE_INVALID_TRANSFER_ENCODING'],
    [['Transfer-Encoding: chunked', 'Transfer-Encoding: gzip'], 'HPE_INVALID_TRANSFER_ENCODING'],
    [['Transfer-Encoding: xchunked'], 'HPE_INVALID_TRANSFER_ENCODING'],
    [['Transfer-Encoding: chunkedx'], 'HPE_INVALID_TRANSFER_ENCODING'],
    [['Transfer-Encoding:'], 'HPE_INVALID_TRANSFER_ENCODING'],
  ])('rejects %j with %s', (fields, code) => {
    expect(errorCode('POST / HTTP/1.1', 'Host: x', ...fields)).toBe(code);
  });
});

describe('keep-alive', () => {
  it.each([
    ['HTTP/1.1', [], true],
    ['HTTP/1.1', ['Connection: keep-alive'], true],
    ['HTTP/1.1', ['Connection: close'], false],
    ['HTTP/1.1', ['Connection: Close'], false],
    ['HTTP/1.1', ['Connection: keep-alive, close'], false],
    ['HTTP/1.1', ['Connection: TE,close'], false],
    ['HTTP/1.1', ['Connection: keep-alive', 'Connection: close'], false],
    // A token, not a substring.
    ['HTTP/1.1', ['Connection: closed'], true],
    ['HTTP/1.1', ['X-Connection: close'], true],
    ['HTTP/1.0', [], false],
    ['HTTP/1.0', ['Connection: keep-alive'], true],
    ['HTTP/1.0', ['Connection: Keep-Alive'], true],
    ['HTTP/1.0', ['Connection: TE, keep-alive'], true],
    ['HTTP/1.0', ['Connection: keep-alive, close'], false],
    ['HTTP/1.0', ['Connection: close'], false],
    ['HTTP/1.0', ['Keep-Alive: timeout=5'], false],
  ])('%s with %j → keepAlive %s', (version, fields, keepAlive) => {
    expect(parse(`GET / ${version}`, 'Host: x', ...fields).keepAlive).toBe(keepAlive);
  });
});

describe('upgrade', () => {
  it.each([
    [['Connection: Upgrade', 'Upgrade: websocket'], true],
    [['Connection: upgrade', 'upgrade: h2c'], true],
    [['Upgrade: websocket', 'Connection: keep-alive, Upgrade'], true],
    [['Connection: keep-alive', 'Connection: upgrade', 'Upgrade: websocket'], true],
    [['Upgrade: websocket'], false],
    [['Connection: Upgrade'], false],
    [['Connection: upgraded', 'Upgrade: websocket'], false],
    [['Connection: keep-alive', 'Upgrade: websocket'], false],
    [[], false],
  ])('%j → upgrade %s', (fields, upgrade) => {
    expect(parse('GET /chat HTTP/1.1', 'Host: x', ...fields).upgrade).toBe(upgrade);
  });

  it('does not treat CONNECT as an upgrade (the server hands it over on its own)', () => {
    expect(parse('CONNECT example.com:443 HTTP/1.1', 'Host: example.com:443')).toMatchObject({ method: 'CONNECT', upgrade: false, framing: { kind: 'none' } });
  });
});
