import { describe, expect, it } from 'vitest';
import { applyRequestEdit, applyResponseEdit } from '../../../../src/proxy/core/edits.js';
import type { FlowRequest, FlowResponse } from '../../../../src/proxy/core/flow.js';
import {
  bodyAsText,
  formatRawRequest,
  formatRawResponse,
  parseRawRequest,
  parseRawResponse,
  RawHttpError,
  type RawHttpErrorCode,
} from '../../../../src/proxy/core/raw-http.js';
import { body, makeFlow, type DeepPartial } from '../../../helpers/make-flow.js';

function request(over: DeepPartial<FlowRequest> = {}): FlowRequest {
  return makeFlow({ request: over }).request;
}

function response(over: DeepPartial<FlowResponse> = {}): FlowResponse {
  return makeFlow({ response: over }).response!;
}

function thrown(fn: () => unknown): RawHttpError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RawHttpError) return err;
    throw err;
  }
  throw new Error('expected a RawHttpError');
}

describe('formatRawRequest', () => {
  it.each<[string, FlowRequest, Buffer, string]>([
    [
      'GET without a body',
      request({ path: '/a?b=1', headers: [['Host', 'example.com'], ['X-MiXeD', 'v']] }),
      Buffer.alloc(0),
      'GET http://example.com/a?b=1 HTTP/1.1\nHost: example.com\nX-MiXeD: v\n\n\n',
    ],
    [
      'POST with a JSON body, https on a non-default port',
      request({ method: 'POST', scheme: 'https', port: 8443, headers: [['content-type', 'application/json']], body: body('{"a":1}') }),
      Buffer.from('{"a":1}'),
      'POST https://example.com:8443/ HTTP/1.1\ncontent-type: application/json\n\n{"a":1}\n',
    ],
    [
      'HTTP/2 (no Host header; the URL names the authority)',
      request({ httpVersion: '2', scheme: 'https', headers: [['accept', '*/*']] }),
      Buffer.alloc(0),
      'GET https://example.com/ HTTP/2\naccept: */*\n\n\n',
    ],
    [
      'a body with CRLF lines and a trailing newline is kept exactly',
      request({ method: 'PUT', headers: [], body: body('a\r\nb\n') }),
      Buffer.from('a\r\nb\n'),
      'PUT http://example.com/ HTTP/1.1\n\na\r\nb\n\n',
    ],
    [
      'IPv6 origin',
      request({ host: '::1', port: 3000, headers: [] }),
      Buffer.alloc(0),
      'GET http://[::1]:3000/ HTTP/1.1\n\n\n',
    ],
  ])('%s', (_name, req, bytes, expected) => {
    expect(formatRawRequest(req, bytes)).toBe(expected);
  });

  it.each<[string, Buffer, string]>([
    ['binary bytes', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]), '(6 bytes, binary)'],
    ['invalid UTF-8', Buffer.from([0x61, 0xff, 0x62]), '(3 bytes, binary)'],
    ['a NUL inside text', Buffer.from('a\u0000b'), '(3 bytes, binary)'],
    ['gzip-compressed bytes', Buffer.from('1f8b0800000000000003cb48cdc9c9070086a6103605000000', 'hex'), '(25 bytes, binary)'],
  ])('replaces a body that is not text (%s) with a note', (_name, bytes, what) => {
    const text = formatRawRequest(request({ method: 'POST', headers: [['Content-Type', 'application/octet-stream']], body: body(bytes) }), bytes);
    const last = text.split('\n').at(-2)!;
    expect(last).toContain(`[proxyctl: the body ${what} is not shown`);
    expect(text).not.toContain(bytes.toString('latin1'));
  });

  it('says so when the body was only partly captured (never offers the head for editing)', () => {
    const req = request({ method: 'POST', headers: [], body: body('hello world', { limit: 5 }) });
    const text = formatRawRequest(req, req.body.bytes!);
    expect(text).toContain('[proxyctl: the body (11 bytes, only the first 5 captured) is not shown');
    expect(parseRawRequest(text).body).toBeUndefined();
  });
});

describe('formatRawResponse', () => {
  it.each<[string, FlowResponse, Buffer, string]>([
    ['200 with a text body', response({ headers: [['Content-Type', 'text/plain'], ['Content-Length', '2']], body: body('ok') }), Buffer.from('ok'), 'HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 2\n\nok\n'],
    ['HTTP/2 404', response({ httpVersion: '2', status: 404, headers: [['content-type', 'text/html']], body: body('<p>') }), Buffer.from('<p>'), 'HTTP/2 404 Not Found\ncontent-type: text/html\n\n<p>\n'],
    ['no reason phrase', response({ status: 299, statusText: '', headers: [], body: body('') }), Buffer.alloc(0), 'HTTP/1.1 299\n\n\n'],
  ])('%s', (_name, res, bytes, expected) => {
    expect(formatRawResponse(res, bytes)).toBe(expected);
  });
});

describe('parseRawRequest', () => {
  it.each<[string, string, { method: string; url: string; headers: Array<[string, string]>; body?: string }]>([
    ['LF line ends', 'GET http://a.test/x HTTP/1.1\nHost: a.test\nAccept: */*\n\n\n', { method: 'GET', url: 'http://a.test/x', headers: [['Host', 'a.test'], ['Accept', '*/*']], body: '' }],
    ['CRLF line ends', 'POST https://a.test/x HTTP/1.1\r\nHost: a.test\r\nContent-Type: text/plain\r\n\r\nhi\r\n', { method: 'POST', url: 'https://a.test/x', headers: [['Host', 'a.test'], ['Content-Type', 'text/plain']], body: 'hi' }],
    ['no final newline (editor without eol)', 'PUT http://a.test/ HTTP/1.1\nX: 1\n\nbody', { method: 'PUT', url: 'http://a.test/', headers: [['X', '1']], body: 'body' }],
    ['no blank line at all: empty body', 'DELETE http://a.test/r HTTP/1.1\nX: 1\n', { method: 'DELETE', url: 'http://a.test/r', headers: [['X', '1']], body: '' }],
    ['only the request line', 'GET http://a.test/', { method: 'GET', url: 'http://a.test/', headers: [], body: '' }],
    ['version may be left out', 'GET http://a.test/ \n\n', { method: 'GET', url: 'http://a.test/', headers: [], body: '' }],
    ['stray blank lines and a BOM before the request line', '\ufeff\n\nGET http://a.test/ HTTP/1.1\nA: b\n', { method: 'GET', url: 'http://a.test/', headers: [['A', 'b']], body: '' }],
    ['case and order of names kept, value whitespace trimmed, empty value kept', 'GET http://a.test/ HTTP/1.1\nx-B:  2 \nX-a:\t1\nX-Empty:\n', { method: 'GET', url: 'http://a.test/', headers: [['x-B', '2'], ['X-a', '1'], ['X-Empty', '']], body: '' }],
    ['duplicates kept', 'GET http://a.test/ HTTP/1.1\nSet: 1\nSet: 2\n', { method: 'GET', url: 'http://a.test/', headers: [['Set', '1'], ['Set', '2']], body: '' }],
    ['body keeps blank lines and its own line ends', 'POST http://a.test/ HTTP/1.1\n\n\nline1\r\n\nline3\n\n', { method: 'POST', url: 'http://a.test/', headers: [], body: '\nline1\r\n\nline3\n' }],
    ['Content-Length as written (fixed later by the edit)', 'POST http://a.test/ HTTP/1.1\nContent-Length: 999\n\nabc\n', { method: 'POST', url: 'http://a.test/', headers: [['Content-Length', '999']], body: 'abc' }],
    ['UTF-8 body', 'POST http://a.test/ HTTP/2\n\nprix: 10 €\n', { method: 'POST', url: 'http://a.test/', headers: [], body: 'prix: 10 €' }],
    ['IPv6 URL', 'GET http://[::1]:8080/p?q HTTP/1.1\n', { method: 'GET', url: 'http://[::1]:8080/p?q', headers: [], body: '' }],
  ])('%s', (_name, text, want) => {
    const edit = parseRawRequest(text);
    expect({ method: edit.method, url: edit.url, headers: edit.headers, body: edit.body?.toString('utf8') }).toEqual(want);
  });

  it.each<[string, string, number, RawHttpErrorCode, RegExp]>([
    ['empty text', '', 1, 'EMPTY', /request is empty/],
    ['only blank lines', '\n\n  \n', 3, 'EMPTY', /request is empty/],
    ['one word', 'GET\n', 1, 'BAD_REQUEST_LINE', /METHOD URL HTTP\/1\.1/],
    ['four words', 'GET http://a/ HTTP/1.1 extra\n', 1, 'BAD_REQUEST_LINE', /METHOD URL/],
    ['bad method', 'G(T http://a/ HTTP/1.1\n', 1, 'BAD_METHOD', /"G\(T" is not a valid method/],
    ['origin-form path', 'GET /a HTTP/1.1\nHost: a\n', 1, 'BAD_URL', /not only the path/],
    ['ftp URL', 'GET ftp://a/ HTTP/1.1\n', 1, 'BAD_URL', /not an absolute http\(s\) URL/],
    ['bad port', 'GET http://a:99999/ HTTP/1.1\n', 1, 'BAD_URL', /absolute/],
    ['bad version', 'GET http://a/ HTTP/one\n', 1, 'BAD_VERSION', /HTTP\/1\.1/],
    ['line number counts leading blank lines', '\n\nGET http://a/ XYZ\n', 3, 'BAD_VERSION', /XYZ/],
    ['header without colon', 'GET http://a/ HTTP/1.1\nHost: a\nBroken header\n', 3, 'BAD_HEADER', /expected "Name: value"/],
    ['space before the colon', 'GET http://a/ HTTP/1.1\nHost : a\n', 2, 'BAD_HEADER', /"Host " is not a valid header name/],
    ['empty name', 'GET http://a/ HTTP/1.1\n: a\n', 2, 'BAD_HEADER', /"" is not a valid header name/],
    ['pseudo-header', 'GET https://a/ HTTP/2\n:authority: a\n', 2, 'BAD_HEADER', /pseudo-header :authority/],
    ['control character in a value', 'GET http://a/ HTTP/1.1\nX: a\u0001b\n', 2, 'BAD_HEADER', /control character/],
    ['obsolete line folding', 'GET http://a/ HTTP/1.1\nX: a\n  continued\n', 3, 'OBSOLETE_FOLDING', /RFC 9112 §5\.2/],
    ['CRLF text, error line still right', 'GET http://a/ HTTP/1.1\r\nA: 1\r\nB\r\n\r\n', 3, 'BAD_HEADER', /Name: value/],
  ])('refuses %s with the line number', (_name, text, line, code, message) => {
    const err = thrown(() => parseRawRequest(text));
    expect({ line: err.line, code: err.code }).toEqual({ line, code });
    expect(err.message).toMatch(new RegExp(`^line ${line}: `));
    expect(err.detail).toMatch(message);
  });

  it('keeps a binary body unchanged while the note line stays, drops it when the line is deleted', () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const req = request({ method: 'POST', headers: [['Content-Type', 'application/octet-stream']], body: body(bytes) });
    const text = formatRawRequest(req, bytes);
    const kept = parseRawRequest(text.replace('application/octet-stream', 'application/x-edited'));
    expect(kept.body).toBeUndefined();
    expect(kept.headers).toEqual([['Content-Type', 'application/x-edited']]);
    const noteLine = text.split('\n').at(-2)!;
    expect(parseRawRequest(text.replace(noteLine, '')).body).toEqual(Buffer.alloc(0));
  });

  it('keeps the binary note when an editor converted the file to CRLF', () => {
    const bytes = Buffer.from([0xff, 0x00]);
    const text = formatRawRequest(request({ method: 'POST', headers: [], body: body(bytes) }), bytes).replace(/\n/g, '\r\n');
    expect(parseRawRequest(text).body).toBeUndefined();
  });

  it('a text body that only mentions the note is still a body', () => {
    const t = 'see [proxyctl: the body (3 bytes, binary) is not shown: x]';
    expect(parseRawRequest(`POST http://a/ HTTP/1.1\n\n${t}\nmore\n`).body?.toString()).toBe(`${t}\nmore`);
  });

  it.each<[string, FlowRequest, Buffer]>([
    ['GET', request({ path: '/q?x=1&y=%20', headers: [['Host', 'example.com'], ['Cookie', 'a=1; b=2']] }), Buffer.alloc(0)],
    ['JSON POST', request({ method: 'POST', headers: [['Content-Type', 'application/json'], ['Content-Length', '9']], body: body('{"k":[1]}') }), Buffer.from('{"k":[1]}')],
    ['body ending in newlines', request({ method: 'POST', headers: [], body: body('x\n\n') }), Buffer.from('x\n\n')],
    ['body of blank lines only', request({ method: 'POST', headers: [], body: body('\n\n') }), Buffer.from('\n\n')],
    ['HTTP/2 request', request({ httpVersion: '2', scheme: 'https', method: 'PATCH', headers: [['content-type', 'text/plain']], body: body('é') }), Buffer.from('é')],
  ])('round-trips unchanged: %s', (_name, req, bytes) => {
    const edit = parseRawRequest(formatRawRequest(req, bytes));
    const applied = applyRequestEdit(req, edit, bytes);
    expect(applied.body).toEqual(bytes);
    expect(applied.request.method).toBe(req.method);
    expect(applied.request.path).toBe(req.path);
    expect(applied.request.host).toBe(req.host);
    expect(applied.request.scheme).toBe(req.scheme);
    // Content-Length is (re)computed from the body by the edit (fixBodyFraming).
    expect(applied.request.headers.filter(([k]) => k.toLowerCase() !== 'content-length')).toEqual(req.headers.filter(([k]) => k.toLowerCase() !== 'content-length'));
  });

  it('an edited body gets a matching Content-Length through applyRequestEdit', () => {
    const req = request({ method: 'POST', headers: [['Host', 'example.com'], ['Content-Length', '2']], body: body('hi') });
    const text = formatRawRequest(req, Buffer.from('hi')).replace('\n\nhi\n', '\n\nhello there\n');
    const applied = applyRequestEdit(req, parseRawRequest(text), Buffer.from('hi'));
    expect(applied.body.toString()).toBe('hello there');
    expect(applied.request.headers).toEqual([['Host', 'example.com'], ['Content-Length', '11']]);
  });
});

describe('parseRawResponse', () => {
  it.each<[string, string, { status: number; headers: Array<[string, string]>; body?: string }]>([
    ['status line with reason', 'HTTP/1.1 404 Not Found\nContent-Type: text/plain\n\nnope\n', { status: 404, headers: [['Content-Type', 'text/plain']], body: 'nope' }],
    ['reason ignored, even if it does not fit', 'HTTP/1.1 201 Whatever You Like\n\n\n', { status: 201, headers: [], body: '' }],
    ['no reason', 'HTTP/1.1 204\n', { status: 204, headers: [], body: '' }],
    ['HTTP/2 and CRLF', 'HTTP/2 500 Internal Server Error\r\nx: 1\r\n\r\n{"e":1}\r\n', { status: 500, headers: [['x', '1']], body: '{"e":1}' }],
    ['599 is the last valid status', 'HTTP/1.0 599 x\n', { status: 599, headers: [], body: '' }],
  ])('%s', (_name, text, want) => {
    const edit = parseRawResponse(text);
    expect({ status: edit.status, headers: edit.headers, body: edit.body?.toString('utf8') }).toEqual(want);
  });

  it.each<[string, string, number, RawHttpErrorCode, RegExp]>([
    ['empty', '', 1, 'EMPTY', /status line \(HTTP\/1\.1 200 OK\)/],
    ['no status', 'HTTP/1.1\n', 1, 'BAD_STATUS_LINE', /HTTP\/1\.1 200 OK/],
    ['status first', '200 OK\n', 1, 'BAD_VERSION', /"200"/],
    ['status not a number', 'HTTP/1.1 OK\n', 1, 'BAD_STATUS', /three digits/],
    ['two digits', 'HTTP/1.1 99 Low\n', 1, 'BAD_STATUS', /three digits/],
    ['interim status', 'HTTP/1.1 101 Switching\n', 1, 'BAD_STATUS', /200–599/],
    ['600', 'HTTP/1.1 600 x\n', 1, 'BAD_STATUS', /200–599/],
    ['bad header', 'HTTP/1.1 200 OK\nok: 1\nno colon here\n', 3, 'BAD_HEADER', /Name: value/],
  ])('refuses %s with the line number', (_name, text, line, code, message) => {
    const err = thrown(() => parseRawResponse(text));
    expect({ line: err.line, code: err.code }).toEqual({ line, code });
    expect(err.detail).toMatch(message);
  });

  it('round-trips and applies: status and body edited, Content-Length fixed', () => {
    const res = response({ headers: [['Content-Type', 'application/json'], ['Content-Length', '7']], body: body('{"a":1}') });
    const text = formatRawResponse(res, Buffer.from('{"a":1}')).replace('HTTP/1.1 200 OK', 'HTTP/1.1 503 Service Unavailable').replace('{"a":1}', '{"a":12345}');
    const applied = applyResponseEdit(res, parseRawResponse(text), Buffer.from('{"a":1}'));
    expect(applied.response.status).toBe(503);
    expect(applied.body.toString()).toBe('{"a":12345}');
    expect(applied.response.headers).toEqual([['Content-Type', 'application/json'], ['Content-Length', '11']]);
  });

  it('binary response body stays unchanged behind the note', () => {
    const bytes = Buffer.from([0x1f, 0x8b, 0x08, 0x00]);
    const res = response({ headers: [['Content-Encoding', 'gzip']], body: body(bytes) });
    const edit = parseRawResponse(formatRawResponse(res, bytes));
    expect(edit.body).toBeUndefined();
    expect(applyResponseEdit(res, edit, bytes).body).toEqual(bytes);
  });
});

describe('bodyAsText', () => {
  it.each<[string, Buffer, boolean]>([
    ['empty', Buffer.alloc(0), true],
    ['ASCII with tabs and CRLF', Buffer.from('a\tb\r\nc\f'), true],
    ['UTF-8', Buffer.from('日本語 ✓'), true],
    ['NUL', Buffer.from([0x61, 0x00]), false],
    ['ESC', Buffer.from('\u001b[31mred'), false],
    ['DEL', Buffer.from('a\u007f'), false],
    ['lone continuation byte', Buffer.from([0x80]), false],
    ['truncated multibyte sequence', Buffer.from([0xe2, 0x82]), false],
  ])('%s → text: %s', (_name, bytes, isText) => {
    expect(bodyAsText(bytes) !== null).toBe(isText);
  });
});
