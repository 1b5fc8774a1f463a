import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { contentCodings, decodeBody } from '../../../../src/proxy/core/body-decode.js';
import type { BodyCapture, HeaderPairs } from '../../../../src/proxy/core/flow.js';
import { body } from '../../../helpers/make-flow.js';

const TEXT = 'hello, body decoding! '.repeat(50);
const ce = (v: string): HeaderPairs => [['Content-Encoding', v]];

describe('decodeBody', () => {
  it.each<[string, Buffer, HeaderPairs, string | null]>([
    ['gzip', gzipSync(TEXT), ce('gzip'), 'gzip'],
    ['x-gzip', gzipSync(TEXT), ce('x-gzip'), 'x-gzip'],
    ['deflate (zlib-wrapped)', deflateSync(TEXT), ce('deflate'), 'deflate'],
    ['deflate (raw, as some servers send)', deflateRawSync(TEXT), ce('deflate'), 'deflate'],
    ['br', brotliCompressSync(TEXT), ce('br'), 'br'],
    ['case and spaces', gzipSync(TEXT), ce(' GZIP '), 'gzip'],
    ['identity', Buffer.from(TEXT), ce('identity'), null],
    ['no header', Buffer.from(TEXT), [], null],
    ['gzip then br (removed last first)', brotliCompressSync(gzipSync(TEXT)), ce('gzip, br'), 'gzip, br'],
    ['two fields', brotliCompressSync(gzipSync(TEXT)), [['Content-Encoding', 'gzip'], ['content-encoding', 'br']], 'gzip, br'],
  ])('%s', (_name, bytes, headers, encoding) => {
    const out = decodeBody(body(bytes), headers);
    expect(out.error).toBeNull();
    expect(out.encoding).toBe(encoding);
    expect(out.bytes.toString()).toBe(TEXT);
  });

  it('decodes the head of a truncated capture instead of failing', () => {
    const big = 'x'.repeat(10) + Array.from({ length: 20000 }, (_, i) => String(i)).join(',');
    const packed = gzipSync(big);
    const capture = body(packed, { limit: Math.floor(packed.length / 2) });
    const out = decodeBody(capture, ce('gzip'));
    expect(out.error).toBeNull();
    expect(out.bytes.length).toBeGreaterThan(0);
    expect(big.startsWith(out.bytes.toString())).toBe(true);
  });

  it.each<[string, BodyCapture, HeaderPairs, RegExp]>([
    ['corrupt gzip', body(Buffer.from('not gzip at all')), ce('gzip'), /cannot decode gzip/],
    ['unknown coding', body(Buffer.from('abc')), ce('zstd'), /unsupported content-encoding zstd/],
  ])('reports %s and returns the captured bytes', (_name, capture, headers, message) => {
    const out = decodeBody(capture, headers);
    expect(out.error).toMatch(message);
    expect(out.encoding).toBeNull();
    expect(out.bytes).toBe(capture.bytes);
  });

  it('caps the decoded size (zip bombs) and never throws', () => {
    const bomb = gzipSync(Buffer.alloc(2 * 1024 * 1024));
    const out = decodeBody(body(bomb), ce('gzip'), 1024 * 1024);
    expect(out.error).toMatch(/viewer limit/);
  });

  it('handles a body not started yet', () => {
    const out = decodeBody({ size: 0, bytes: null, truncated: false, sha256: null, state: 'none' }, ce('gzip'));
    expect(out).toEqual({ bytes: Buffer.alloc(0), encoding: 'gzip', error: null });
  });
});

describe('contentCodings', () => {
  it.each<[HeaderPairs, string[]]>([
    [[], []],
    [ce('gzip'), ['gzip']],
    [ce('gzip, identity, br'), ['gzip', 'br']],
    [[['Content-Type', 'text/plain']], []],
  ])('%j → %j', (headers, codings) => {
    expect(contentCodings(headers)).toEqual(codings);
  });
});
