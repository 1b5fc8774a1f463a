/**
 * The upstream client's HTTP/1.x response parser without sockets: bytes in (whole, split at every
 * position, byte by byte), events out. Framing follows RFC 9112 §6.3, fields §5, chunked §7.1;
 * errors carry llhttp's codes because the upstream error classifier maps those.
 */
import { describe, expect, it } from 'vitest';
import type { HeaderPairs } from '../../../../../src/proxy/core/flow.js';
import { ResponseParseError, ResponseParser, type ResponseEvents, type ResponseHead } from '../../../../../src/proxy/net/h1-client/response-parser.js';

type Ev =
  | { kind: 'info'; status: number; headers: HeaderPairs }
  | { kind: 'head'; status: number; statusText: string; minor: number; headers: HeaderPairs }
  | { kind: 'body'; data: string }
  | { kind: 'end'; trailers: HeaderPairs | null };

/** Records events; consecutive body slices are merged (how bytes were split must not matter). */
class Recorder implements ResponseEvents {
  readonly events: Ev[] = [];
  informational(head: ResponseHead): void {
    this.events.push({ kind: 'info', status: head.status, headers: head.headers });
  }
  head(head: ResponseHead): void {
    this.events.push({ kind: 'head', status: head.status, statusText: head.statusText, minor: head.minor, headers: head.headers });
  }
  body(chunk: Buffer): void {
    // Copy now: the slice is only valid during the call.
    const data = chunk.toString('latin1');
    const last = this.events[this.events.length - 1];
    if (last?.kind === 'body') last.data += data;
    else this.events.push({ kind: 'body', data });
  }
  end(trailers: HeaderPairs | null): void {
    this.events.push({ kind: 'end', trailers });
  }
}

interface Parsed {
  events: Ev[];
  parser: ResponseParser;
}

/** Parse `message` (the response to `method`) fed in the given pieces. */
function feed(method: string, pieces: Buffer[], maxHeaderBytes = 16 * 1024): Parsed {
  const rec = new Recorder();
  const parser = new ResponseParser(rec, maxHeaderBytes);
  parser.expect(method);
  for (const p of pieces) parser.execute(p);
  return { events: rec.events, parser };
}

const whole = (method: string, message: string, max?: number) => feed(method, [Buffer.from(message, 'latin1')], max);
const bytewise = (method: string, message: string, max?: number) =>
  feed(
    method,
    [...Buffer.from(message, 'latin1')].map((b) => Buffer.from([b])),
    max,
  );
const splitAt = (method: string, message: string, i: number) => {
  const buf = Buffer.from(message, 'latin1');
  return feed(method, [buf.subarray(0, i), buf.subarray(i)]);
};

/** The error `fn` throws (failing the test when it throws nothing or something else). */
function parseError(fn: () => unknown): ResponseParseError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ResponseParseError);
    return err as ResponseParseError;
  }
  throw new Error('expected a ResponseParseError, nothing was thrown');
}

const head = (status: number, headers: HeaderPairs, statusText = 'OK', minor = 1): Ev => ({ kind: 'head', status, statusText, minor, headers });

describe('status line', () => {
  it.each([
    { line: 'HTTP/1.1 200 OK', status: 200, statusText: 'OK', minor: 1 },
    { line: 'HTTP/1.0 200 OK', status: 200, statusText: 'OK', minor: 0 },
    { line: 'HTTP/1.1 404 Not Found', status: 404, statusText: 'Not Found', minor: 1 },
    { line: 'HTTP/1.1 200', status: 200, statusText: '', minor: 1 },
    { line: 'HTTP/1.1 200 ', status: 200, statusText: '', minor: 1 },
    { line: 'HTTP/1.1 299 Some  odd   reason', status: 299, statusText: 'Some  odd   reason', minor: 1 },
    { line: 'HTTP/1.1 599 x', status: 599, statusText: 'x', minor: 1 },
  ])('$line → $status "$statusText" (1.$minor)', ({ line, status, statusText, minor }) => {
    const { events } = whole('GET', `${line}\r\nContent-Length: 0\r\n\r\n`);
    expect(events).toEqual([head(status, [['Content-Length', '0']], statusText, minor), { kind: 'end', trailers: null }]);
  });

  it.each([
    { line: 'HTTP/2.0 200 OK', codes: ['HPE_INVALID_CONSTANT'] },
    { line: 'HTTP/1.1200 OK', codes: ['HPE_INVALID_CONSTANT'] },
    { line: 'SSH-2.0-OpenSSH_9.6', codes: ['HPE_INVALID_CONSTANT'] },
    { line: 'http/1.1 200 OK', codes: ['HPE_INVALID_CONSTANT'] },
    { line: '', codes: ['HPE_INVALID_CONSTANT'] },
    { line: 'HTTP/1.1 20', codes: ['HPE_INVALID_CONSTANT', 'HPE_INVALID_STATUS'] },
    { line: 'HTTP/1.2 200 OK', codes: ['HPE_INVALID_STATUS', 'HPE_INVALID_CONSTANT'] },
    { line: 'HTTP/1.1 abc OK', codes: ['HPE_INVALID_STATUS'] },
    { line: 'HTTP/1.1 099 Too low', codes: ['HPE_INVALID_STATUS'] },
    { line: 'HTTP/1.1 200OK', codes: ['HPE_INVALID_STATUS'] },
    { line: 'HTTP/1.1  200 OK', codes: ['HPE_INVALID_STATUS'] },
    { line: 'HTTP/1.1 +20 OK', codes: ['HPE_INVALID_STATUS'] },
    // Three DIGITs (RFC 9112 §4): not a number JavaScript happens to read.
    { line: 'HTTP/1.1 2e2 OK', codes: ['HPE_INVALID_STATUS'] },
    { line: 'HTTP/1.1 1E2 Continue', codes: ['HPE_INVALID_STATUS'] },
  ])('$line is refused ($codes)', ({ line, codes }) => {
    const err = parseError(() => whole('GET', `${line}\r\nContent-Length: 0\r\n\r\n`));
    expect(codes).toContain(err.code);
  });
});

describe('fields', () => {
  it('keeps names as sent, duplicates in order, and trims optional whitespace around values', () => {
    const { events } = whole('GET', 'HTTP/1.1 200 OK\r\nX-Pad:   padded \t \r\nx-lower:v\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Empty:\r\nX-Inner: a  b\r\nContent-Length: 0\r\n\r\n');
    expect(events[0]).toEqual(
      head(200, [
        ['X-Pad', 'padded'],
        ['x-lower', 'v'],
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
        ['X-Empty', ''],
        ['X-Inner', 'a  b'],
        ['Content-Length', '0'],
      ]),
    );
  });

  it('joins an obsolete line folding into the previous value with one space (RFC 9112 §5.2)', () => {
    const { events } = whole('GET', 'HTTP/1.1 200 OK\r\nX-Folded: first\r\n   second\r\n\tthird  \r\nContent-Length: 0\r\n\r\n');
    expect(events[0]).toEqual(
      head(200, [
        ['X-Folded', 'first second third'],
        ['Content-Length', '0'],
      ]),
    );
  });

  it.each([
    ['a folded line before any field', 'HTTP/1.1 200 OK\r\n folded\r\nContent-Length: 0'],
    ['whitespace before the colon (RFC 9112 §5.1)', 'HTTP/1.1 200 OK\r\nContent-Length : 0'],
    ['a space inside the name', 'HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 0'],
    ['a separator in the name', 'HTTP/1.1 200 OK\r\nX(y): z\r\nContent-Length: 0'],
    ['an empty name', 'HTTP/1.1 200 OK\r\n: nameless\r\nContent-Length: 0'],
    ['a line without a colon', 'HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0'],
  ])('refuses %s (HPE_INVALID_HEADER_TOKEN)', (_what, headText) => {
    expect(parseError(() => whole('GET', `${headText}\r\n\r\n`)).code).toBe('HPE_INVALID_HEADER_TOKEN');
  });

  it.each([
    ['a bare LF', 'X-A: 1\nX-Injected: 2'],
    ['a bare CR', 'X-A: 1\rX-Injected: 2'],
    ['a NUL', 'X-A: 1\0X-Injected: 2'],
  ])('never hands on a field value containing %s (RFC 9110 §5.5: reject, or replace with SP)', (_what, field) => {
    let events: Ev[];
    try {
      ({ events } = whole('GET', `HTTP/1.1 200 OK\r\n${field}\r\nContent-Length: 0\r\n\r\n`));
    } catch (err) {
      // Rejecting the message is one of the two permitted answers.
      expect(err).toBeInstanceOf(ResponseParseError);
      return;
    }
    const h = events[0];
    expect(h?.kind).toBe('head');
    for (const [name, value] of (h as { headers: HeaderPairs }).headers) {
      expect(`${name}: ${value}`).not.toMatch(/[\r\n\0]/);
    }
  });

  it('refuses a head larger than maxHeaderBytes, whole or in pieces (HPE_HEADER_OVERFLOW)', () => {
    const big = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(300)}\r\nContent-Length: 0\r\n\r\n`;
    expect(parseError(() => whole('GET', big, 256)).code).toBe('HPE_HEADER_OVERFLOW');
    // The whole head never arrives at once: the parser must not wait for the blank line forever.
    const rec = new Recorder();
    const parser = new ResponseParser(rec, 256);
    parser.expect('GET');
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\n'));
    const err = parseError(() => {
      for (let i = 0; i < 100; i++) parser.execute(Buffer.from('X-More: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'));
    });
    expect(err.code).toBe('HPE_HEADER_OVERFLOW');
    expect(rec.events).toEqual([]);
  });

  it('accepts a head of exactly maxHeaderBytes', () => {
    const base = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Fill: ';
    const message = `${base}${'f'.repeat(200 - base.length)}\r\n\r\n`;
    const { events } = whole('GET', message, 200);
    expect(events.map((e) => e.kind)).toEqual(['head', 'end']);
  });
});

describe('Content-Length framing', () => {
  const msg = 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world';
  const want: Ev[] = [head(200, [['Content-Length', '11']]), { kind: 'body', data: 'hello world' }, { kind: 'end', trailers: null }];

  it('reads exactly Content-Length bytes, whole, split anywhere, or byte by byte', () => {
    expect(whole('GET', msg).events).toEqual(want);
    expect(bytewise('GET', msg).events).toEqual(want);
    for (let i = 1; i < msg.length; i++) expect(splitAt('GET', msg, i).events, `split at ${i}`).toEqual(want);
  });

  it('ends at once with Content-Length: 0 and stays reusable', () => {
    const { events, parser } = whole('GET', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    expect(events).toEqual([head(200, [['Content-Length', '0']]), { kind: 'end', trailers: null }]);
    expect(parser.idle).toBe(true);
    expect(parser.keepAlive).toBe(true);
  });

  it('hands on body slices of what was read without copying, over many tiny reads', () => {
    const body = Buffer.alloc(1000, 'x');
    const rec = new Recorder();
    const parser = new ResponseParser(rec, 1024);
    parser.expect('GET');
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n'));
    for (let i = 0; i < body.length; i += 7) parser.execute(body.subarray(i, i + 7));
    expect(rec.events).toEqual([head(200, [['Content-Length', '1000']]), { kind: 'body', data: body.toString('latin1') }, { kind: 'end', trailers: null }]);
    expect(parser.idle).toBe(true);
  });

  it('accepts repeated equal Content-Length fields', () => {
    const { events } = whole('GET', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok');
    expect(events.slice(1)).toEqual([{ kind: 'body', data: 'ok' }, { kind: 'end', trailers: null }]);
  });

  it.each([
    ['conflicting values', 'Content-Length: 2\r\nContent-Length: 3'],
    ['a non-number', 'Content-Length: abc'],
    ['a negative number', 'Content-Length: -1'],
    ['an empty value', 'Content-Length:'],
    ['a sign', 'Content-Length: +2'],
  ])('refuses %s (HPE_INVALID_CONTENT_LENGTH)', (_what, field) => {
    expect(parseError(() => whole('GET', `HTTP/1.1 200 OK\r\n${field}\r\n\r\nok`)).code).toBe('HPE_INVALID_CONTENT_LENGTH');
  });

  it('reports close() before the length was read as cut short', () => {
    const { events, parser } = whole('GET', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    expect(parser.close()).toBe(false);
    expect(events.at(-1)).toEqual({ kind: 'body', data: 'abc' });
  });

  it('refuses bytes after the end of a response, in the same read or a later one', () => {
    const rec = new Recorder();
    const parser = new ResponseParser(rec, 1024);
    parser.expect('GET');
    expect(parseError(() => parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n'))).code).toBe('HPE_INVALID_CONSTANT');
    // The response itself was complete before the stray bytes.
    expect(rec.events).toEqual([head(200, [['Content-Length', '2']]), { kind: 'body', data: 'ok' }, { kind: 'end', trailers: null }]);

    const later = whole('GET', 'HTTP/1.1 204 No Content\r\n\r\n');
    expect(parseError(() => later.parser.execute(Buffer.from('x'))).code).toBe('HPE_INVALID_CONSTANT');
  });

  it('parses the next response after expect() on the same parser (keep-alive)', () => {
    const rec = new Recorder();
    const parser = new ResponseParser(rec, 1024);
    for (const body of ['one', 'three']) {
      parser.expect('GET');
      expect(parser.awaitingHead).toBe(true);
      parser.execute(Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
      expect(parser.idle).toBe(true);
    }
    expect(rec.events.filter((e) => e.kind === 'body')).toEqual([
      { kind: 'body', data: 'one' },
      { kind: 'body', data: 'three' },
    ]);
  });

  it('is not awaiting a head any more once part of one arrived', () => {
    const rec = new Recorder();
    const parser = new ResponseParser(rec, 1024);
    expect(parser.idle).toBe(true);
    parser.expect('GET');
    expect(parser.awaitingHead).toBe(true);
    parser.execute(Buffer.from('HTTP/1.1 2'));
    expect(parser.awaitingHead).toBe(false);
    expect(parser.idle).toBe(false);
    expect(parser.close()).toBe(false);
  });
});

describe('chunked framing (RFC 9112 §7.1)', () => {
  const msg =
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n' +
    '5;name=value\r\nhello\r\n' +
    '1;quoted="a;b"\r\n,\r\n' +
    'A\r\n0123456789\r\n' +
    '00006 ; spaced\r\n world\r\n' +
    '0;last\r\nX-Checksum: abc123\r\nX-Other:  two \r\n\r\n';
  const want: Ev[] = [
    head(200, [
      ['Transfer-Encoding', 'chunked'],
      ['Trailer', 'X-Checksum'],
    ]),
    { kind: 'body', data: 'hello,0123456789 world' },
    {
      kind: 'end',
      trailers: [
        ['X-Checksum', 'abc123'],
        ['X-Other', 'two'],
      ],
    },
  ];

  it('decodes chunks with extensions and trailers, whole and byte by byte', () => {
    const whole1 = whole('GET', msg);
    expect(whole1.events).toEqual(want);
    expect(whole1.parser.keepAlive).toBe(true);
    expect(whole1.parser.idle).toBe(true);
    expect(bytewise('GET', msg).events).toEqual(want);
  });

  it('decodes the same wherever the bytes are split', () => {
    for (let i = 1; i < msg.length; i++) {
      const { events, parser } = splitAt('GET', msg, i);
      expect(events, `split at ${i}`).toEqual(want);
      expect(parser.idle, `split at ${i}`).toBe(true);
    }
  });

  it('ends with null trailers when there are none, wherever split', () => {
    const plain = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    const expected: Ev[] = [head(200, [['Transfer-Encoding', 'chunked']]), { kind: 'body', data: 'abc' }, { kind: 'end', trailers: null }];
    for (let i = 1; i < plain.length; i++) expect(splitAt('GET', plain, i).events, `split at ${i}`).toEqual(expected);
    expect(bytewise('GET', plain).events).toEqual(expected);
  });

  it('takes chunked when it is the last coding, and ignores its case', () => {
    const { events, parser } = whole('GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n2\r\nzz\r\n0\r\n\r\n');
    expect(events.slice(1)).toEqual([{ kind: 'body', data: 'zz' }, { kind: 'end', trailers: null }]);
    expect(parser.keepAlive).toBe(true);
  });

  it('lets Transfer-Encoding win over Content-Length, and does not reuse such a connection (§6.3)', () => {
    const { events, parser } = whole('GET', 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n');
    expect(events.slice(1)).toEqual([{ kind: 'body', data: 'ok' }, { kind: 'end', trailers: null }]);
    expect(parser.idle).toBe(true);
    expect(parser.keepAlive).toBe(false);
  });

  it.each([
    ['a non-hex size', 'zz\r\nabc\r\n0\r\n\r\n'],
    ['an empty size', '\r\nabc\r\n0\r\n\r\n'],
    ['a size too large', `${'f'.repeat(13)}\r\n`],
    ['data not followed by CRLF', '3\r\nabcX\r\n0\r\n\r\n'],
    ['a chunk-size line that never ends', `1;${'e'.repeat(5000)}`],
  ])('refuses %s (HPE_INVALID_CHUNK_SIZE)', (_what, body) => {
    expect(parseError(() => whole('GET', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body}`)).code).toBe('HPE_INVALID_CHUNK_SIZE');
  });

  it('refuses an invalid trailer field', () => {
    expect(parseError(() => whole('GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: x\r\n\r\n')).code).toBe('HPE_INVALID_HEADER_TOKEN');
  });

  it('reports a close in the middle of chunks as cut short', () => {
    const { parser } = whole('GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab');
    expect(parser.close()).toBe(false);
  });
});

describe('bodies delimited by the close', () => {
  it.each([
    ['an unknown transfer coding', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n'],
    ['chunked not last', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'],
    ['no length at all', 'HTTP/1.1 200 OK\r\n\r\n'],
    ['HTTP/1.0 without a length', 'HTTP/1.0 200 OK\r\n\r\n'],
  ])('%s: the body runs until close(), and the connection is not reused', (_what, headText) => {
    const rec = new Recorder();
    const parser = new ResponseParser(rec, 1024);
    parser.expect('GET');
    parser.execute(Buffer.from(`${headText}first `));
    parser.execute(Buffer.from('0\r\n\r\nsecond'));
    expect(parser.untilClose).toBe(true);
    expect(rec.events.at(-1)).toEqual({ kind: 'body', data: 'first 0\r\n\r\nsecond' });
    expect(parser.close()).toBe(true);
    expect(rec.events.at(-1)).toEqual({ kind: 'end', trailers: null });
    expect(parser.idle).toBe(true);
    expect(parser.keepAlive).toBe(false);
  });

  it('ends an empty body at close()', () => {
    const { events, parser } = whole('GET', 'HTTP/1.1 200 OK\r\n\r\n');
    expect(parser.close()).toBe(true);
    expect(events).toEqual([head(200, []), { kind: 'end', trailers: null }]);
  });
});

describe('responses without a body', () => {
  it.each([
    { method: 'HEAD', message: 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n' },
    { method: 'HEAD', message: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' },
    { method: 'GET', message: 'HTTP/1.1 204 No Content\r\nContent-Length: 55\r\n\r\n' },
    { method: 'GET', message: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 55\r\nETag: "x"\r\n\r\n' },
  ])('$method → $message has no body and the connection stays reusable', ({ method, message }) => {
    const { events, parser } = whole(method, message);
    expect(events.map((e) => e.kind)).toEqual(['head', 'end']);
    expect(parser.idle).toBe(true);
    expect(parser.keepAlive).toBe(true);
  });

  it('takes the next response right after a HEAD response in the same read', () => {
    const rec = new Recorder();
    const parser = new ResponseParser(rec, 1024);
    parser.expect('HEAD');
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'));
    parser.expect('GET');
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'));
    expect(rec.events.map((e) => e.kind)).toEqual(['head', 'end', 'head', 'body', 'end']);
  });

  it('ends a 101 Switching Protocols head at once and never reuses the connection', () => {
    const { events, parser } = whole('GET', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    expect(events).toEqual([
      head(
        101,
        [
          ['Upgrade', 'websocket'],
          ['Connection', 'Upgrade'],
        ],
        'Switching Protocols',
      ),
      { kind: 'end', trailers: null },
    ]);
    expect(parser.keepAlive).toBe(false);
  });
});

describe('1xx informational responses', () => {
  const msg =
    'HTTP/1.1 100 Continue\r\n\r\n' +
    'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\nLink: </app.js>; rel=preload; as=script\r\n\r\n' +
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi';
  const want: Ev[] = [
    { kind: 'info', status: 100, headers: [] },
    {
      kind: 'info',
      status: 103,
      headers: [
        ['Link', '</style.css>; rel=preload; as=style'],
        ['Link', '</app.js>; rel=preload; as=script'],
      ],
    },
    head(200, [['Content-Length', '2']]),
    { kind: 'body', data: 'hi' },
    { kind: 'end', trailers: null },
  ];

  it('reports 100 and 103 (with its Link fields) before the final head, however split', () => {
    expect(whole('GET', msg).events).toEqual(want);
    expect(bytewise('GET', msg).events).toEqual(want);
    for (let i = 1; i < msg.length; i++) expect(splitAt('GET', msg, i).events, `split at ${i}`).toEqual(want);
  });

  it('keeps a HEAD request bodiless across an interim response', () => {
    const { events } = whole('HEAD', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n');
    expect(events.map((e) => e.kind)).toEqual(['info', 'head', 'end']);
  });

  it('is still waiting for the final head after an interim one', () => {
    const { parser } = whole('GET', 'HTTP/1.1 100 Continue\r\n\r\n');
    expect(parser.awaitingHead).toBe(true);
    expect(parser.close()).toBe(false);
  });
});

describe('keep-alive rules', () => {
  it.each([
    { what: 'HTTP/1.1 by default', message: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', keepAlive: true },
    { what: 'HTTP/1.1 + Connection: close', message: 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', keepAlive: false },
    { what: 'HTTP/1.1 + Connection: Close (any case)', message: 'HTTP/1.1 200 OK\r\nconnection: CLOSE\r\nContent-Length: 0\r\n\r\n', keepAlive: false },
    { what: 'HTTP/1.1 + close among other options', message: 'HTTP/1.1 200 OK\r\nConnection: x-foo, close\r\nContent-Length: 0\r\n\r\n', keepAlive: false },
    { what: 'HTTP/1.1 + an option merely containing "close"', message: 'HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n', keepAlive: true },
    { what: 'HTTP/1.0 by default', message: 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', keepAlive: false },
    { what: 'HTTP/1.0 + Connection: keep-alive', message: 'HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n', keepAlive: true },
    { what: 'HTTP/1.0 + keep-alive but no length', message: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n', keepAlive: false },
    { what: 'HTTP/1.1 chunked', message: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', keepAlive: true },
    { what: 'HTTP/1.1 chunked + Connection: close', message: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n', keepAlive: false },
  ])('$what → keepAlive $keepAlive', ({ message, keepAlive }) => {
    const { parser } = whole('GET', message);
    if (parser.untilClose) parser.close();
    expect(parser.idle).toBe(true);
    expect(parser.keepAlive).toBe(keepAlive);
  });
});
