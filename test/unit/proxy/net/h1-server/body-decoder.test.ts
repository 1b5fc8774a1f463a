/**
 * The request body decoder of the proxy's own HTTP/1.x server, without sockets: Content-Length and
 * chunked bodies (RFC 9112 §6.2, §7.1: extensions, trailers), fed whole, byte by byte and split at
 * every position, with bytes of a next request after the body. `feed` must say exactly where the
 * body ended, whatever the split, and refuse malformed chunk framing with llhttp's codes.
 */
import { describe, expect, it } from 'vitest';
import type { HeaderPairs } from '../../../../../src/proxy/core/flow.js';
import { BodyDecoder } from '../../../../../src/proxy/net/h1-server/body-decoder.js';
import { RequestParseError, type RequestFraming } from '../../../../../src/proxy/net/h1-server/request-head.js';

type Framing = Exclude<RequestFraming, { kind: 'none' }>;

interface Decoded {
  body: string;
  /** Trailer fields; null when the body never ended. */
  trailers: HeaderPairs | null;
  /** Offset in the whole input (all pieces together) where the body ended; null when it did not. */
  endOffset: number | null;
  /** How many times onEnd was called. */
  ends: number;
  /** The error code thrown, if any. */
  error: string | null;
}

/**
 * Feed `pieces` in order, as the server does: each piece from `start` (0, or the prefix length for
 * the first piece), stopping at the piece where the body ends. Every piece before that must be
 * consumed whole, and `done` must stay false until then.
 */
function decode(framing: Framing, pieces: Buffer[], opts: { maxTrailerBytes?: number; firstStart?: number } = {}): Decoded {
  const out: Decoded = { body: '', trailers: null, endOffset: null, ends: 0, error: null };
  const dec = new BodyDecoder(
    framing,
    opts.maxTrailerBytes ?? 16 * 1024,
    (chunk) => {
      expect(chunk.length).toBeGreaterThan(0);
      out.body += chunk.toString('latin1');
    },
    (trailers) => {
      out.ends++;
      out.trailers = trailers;
    },
  );
  let base = 0;
  try {
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      const start = i === 0 ? (opts.firstStart ?? 0) : 0;
      expect(dec.done).toBe(false);
      const pos = dec.feed(piece, start);
      if (dec.done) {
        expect(pos).toBeGreaterThanOrEqual(start);
        expect(pos).toBeLessThanOrEqual(piece.length);
        out.endOffset = base + pos;
        break;
      }
      expect(pos).toBe(piece.length);
      base += piece.length;
    }
  } catch (err) {
    if (!(err instanceof RequestParseError)) throw err;
    out.error = err.code;
  }
  return out;
}

const bytes = (s: string) => Buffer.from(s, 'latin1');
const whole = (s: string) => [bytes(s)];
const bytewise = (s: string) => [...bytes(s)].map((b) => Buffer.from([b]));
const splitAt = (s: string, i: number) => [bytes(s).subarray(0, i), bytes(s).subarray(i)];
/** Split into three at i and j (i <= j). */
const split3 = (s: string, i: number, j: number) => [bytes(s).subarray(0, i), bytes(s).subarray(i, j), bytes(s).subarray(j)];

const NEXT = 'GET /next HTTP/1.1\r\nHost: x\r\n\r\n';

interface Case {
  name: string;
  framing: Framing;
  /** The body as framed on the wire. */
  wire: string;
  body: string;
  trailers: HeaderPairs;
}

const CASES: Case[] = [
  { name: 'Content-Length', framing: { kind: 'length', length: 11 }, wire: 'hello world', body: 'hello world', trailers: [] },
  { name: 'Content-Length with CRLFs in the data', framing: { kind: 'length', length: 8 }, wire: '\r\n0\r\n\r\n\r', body: '\r\n0\r\n\r\n\r', trailers: [] },
  { name: 'Content-Length of one byte', framing: { kind: 'length', length: 1 }, wire: 'x', body: 'x', trailers: [] },
  { name: 'chunked', framing: { kind: 'chunked' }, wire: '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n', body: 'hello world', trailers: [] },
  { name: 'chunked, upper-case hex and leading zeros', framing: { kind: 'chunked' }, wire: '00A\r\n0123456789\r\n1\r\n!\r\n000\r\n\r\n', body: '0123456789!', trailers: [] },
  { name: 'chunked with extensions', framing: { kind: 'chunked' }, wire: '5;name=value\r\nhello\r\n1;a;b="q;x"\r\n!\r\n0;last\r\n\r\n', body: 'hello!', trailers: [] },
  { name: 'chunked data that looks like framing', framing: { kind: 'chunked' }, wire: '7\r\n0\r\n\r\nxx\r\n0\r\n\r\n', body: '0\r\n\r\nxx', trailers: [] },
  { name: 'chunked, empty body', framing: { kind: 'chunked' }, wire: '0\r\n\r\n', body: '', trailers: [] },
  {
    name: 'chunked with trailers',
    framing: { kind: 'chunked' },
    wire: '3\r\nabc\r\n0\r\nX-Checksum: sha256=abc\r\nX-Other:  padded \r\nx-empty:\r\n\r\n',
    body: 'abc',
    trailers: [
      ['X-Checksum', 'sha256=abc'],
      ['X-Other', 'padded'],
      ['x-empty', ''],
    ],
  },
];

describe('well-formed bodies', () => {
  describe.each(CASES)('$name', ({ framing, wire, body, trailers }) => {
    const input = wire + NEXT;
    const expected: Decoded = { body, trailers, endOffset: wire.length, ends: 1, error: null };

    it('whole, with the next request after it', () => {
      expect(decode(framing, whole(input))).toEqual(expected);
    });

    it('whole, exactly the body', () => {
      expect(decode(framing, whole(wire))).toEqual(expected);
    });

    it('byte by byte', () => {
      expect(decode(framing, bytewise(input))).toEqual(expected);
    });

    it('split at every position', () => {
      for (let i = 0; i <= input.length; i++) expect(decode(framing, splitAt(input, i)), `split at ${i}`).toEqual(expected);
    });

    it('split in three at every pair of positions within the body', () => {
      for (let i = 0; i <= wire.length; i++) {
        for (let j = i; j <= wire.length + 1; j++) expect(decode(framing, split3(input, i, j)), `split at ${i} and ${j}`).toEqual(expected);
      }
    });

    it('starting at an offset in the first buffer (after the head)', () => {
      const prefix = 'POST / HTTP/1.1\r\nHost: x\r\n\r\n';
      const got = decode(framing, whole(prefix + input), { firstStart: prefix.length });
      expect(got).toEqual({ ...expected, endOffset: prefix.length + wire.length });
      for (let i = prefix.length; i <= prefix.length + input.length; i++) {
        expect(decode(framing, splitAt(prefix + input, i), { firstStart: prefix.length }), `split at ${i}`).toEqual({ ...expected, endOffset: prefix.length + wire.length });
      }
    });
  });

  it('reports nothing as done while the body is incomplete', () => {
    const dec = new BodyDecoder({ kind: 'chunked' }, 1024, () => {}, () => {});
    expect(dec.feed(bytes('5\r\nhel'), 0)).toBe(6);
    expect(dec.done).toBe(false);
    expect(dec.feed(bytes('lo\r\n0\r\n'), 0)).toBe(7);
    expect(dec.done).toBe(false);
    expect(dec.feed(bytes('\r\nNEXT'), 0)).toBe(2);
    expect(dec.done).toBe(true);
  });

  it('hands on slices of the input, not copies', () => {
    const input = bytes('hello');
    const seen: Buffer[] = [];
    new BodyDecoder({ kind: 'length', length: 5 }, 1024, (c) => seen.push(c), () => {}).feed(input, 0);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.buffer).toBe(input.buffer);
  });

  it('decodes a large chunked body with many chunks fed in odd-sized pieces', () => {
    let wire = '';
    let body = '';
    for (let i = 1; i <= 300; i++) {
      const data = String.fromCharCode(65 + (i % 26)).repeat(i);
      wire += `${i.toString(16)}\r\n${data}\r\n`;
      body += data;
    }
    wire += '0\r\nX-Count: 300\r\n\r\n';
    const input = bytes(wire + NEXT);
    const pieces: Buffer[] = [];
    for (let at = 0, step = 1; at < input.length; at += step, step = (step * 7) % 97 || 1) pieces.push(input.subarray(at, at + step));
    expect(decode({ kind: 'chunked' }, pieces)).toEqual({ body, trailers: [['X-Count', '300']], endOffset: wire.length, ends: 1, error: null });
  });
});

describe('malformed chunked bodies', () => {
  it.each([
    ['a size that is not hex', 'z\r\nabc\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['an empty size line', '\r\nabc\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['a negative size', '-1\r\nabc\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['a 0x prefix', '0x3\r\nabc\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['a size of 13 hex digits', '1000000000000\r\nabc\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['only an extension', ';ext\r\nabc\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['a size line ended by a bare LF', '3\nabc\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['data longer than its size (no CRLF after it)', '3\r\nabcd\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['data followed by a bare LF', '3\r\nabc\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['data followed by LF CR', '3\r\nabc\n\r0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['a trailer line without a colon', '0\r\nNoColon\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['a trailer line with an empty name', '0\r\n: value\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['a bare CR in a trailer', '0\r\nX-A: a\rb\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['a bare LF in a trailer', '0\r\nX-A: a\nb\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
  ])('rejects %s, however it is split', (_what, wire, code) => {
    const expectError = (d: Decoded, where: string) => {
      expect(d.error, where).toBe(code);
      expect(d.ends, where).toBe(0);
    };
    expectError(decode({ kind: 'chunked' }, whole(wire)), 'whole');
    expectError(decode({ kind: 'chunked' }, bytewise(wire)), 'byte by byte');
    for (let i = 0; i <= wire.length; i++) expectError(decode({ kind: 'chunked' }, splitAt(wire, i)), `split at ${i}`);
  });

  it('rejects a chunk size line that never ends (more than 4 KiB without CRLF)', () => {
    const dec = new BodyDecoder({ kind: 'chunked' }, 16 * 1024, () => {}, () => {});
    expect(dec.feed(bytes('1;'), 0)).toBe(2);
    const ext = bytes('x'.repeat(1024));
    const feedMore = () => {
      for (let i = 0; i < 8; i++) dec.feed(ext, 0);
    };
    expect(feedMore).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CHUNK_SIZE' }));
  });

  it('rejects trailers larger than maxTrailerBytes (HPE_HEADER_OVERFLOW)', () => {
    const wire = `0\r\nX-Big: ${'t'.repeat(300)}\r\n`;
    expect(decode({ kind: 'chunked' }, whole(wire), { maxTrailerBytes: 256 }).error).toBe('HPE_HEADER_OVERFLOW');
    expect(decode({ kind: 'chunked' }, bytewise(wire), { maxTrailerBytes: 256 }).error).toBe('HPE_HEADER_OVERFLOW');
    // Within the limit the same trailer is fine.
    expect(decode({ kind: 'chunked' }, whole(`${wire}\r\n`), { maxTrailerBytes: 1024 })).toMatchObject({ error: null, trailers: [['X-Big', 't'.repeat(300)]] });
  });

  // RFC 9110 §6.5: trailer fields have the syntax of header fields (field-name = token). llhttp
  // refuses these, and a name like this cannot be forwarded (Node throws ERR_INVALID_HTTP_TOKEN on it).
  it.each([
    ['whitespace before the colon', '0\r\nX-A : 1\r\n\r\n'],
    ['a space in the name', '0\r\nBad Name: 1\r\n\r\n'],
    ['obs-fold', '0\r\nX-A: 1\r\n folded\r\n\r\n'],
    ['a NUL in the value', '0\r\nX-A: a\0b\r\n\r\n'],
  ])('rejects a trailer with %s (HPE_INVALID_HEADER_TOKEN)', (_what, wire) => {
    expect(decode({ kind: 'chunked' }, whole(wire)).error).toBe('HPE_INVALID_HEADER_TOKEN');
  });
});
