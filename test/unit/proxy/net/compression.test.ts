/**
 * The compression decision (src/proxy/net/compression.ts) over plain data: Accept-Encoding
 * negotiation, type matching, and the headers a compressed response is sent with.
 */
import { describe, expect, it } from 'vitest';
import { configSchema, formatIssues } from '../../../../src/config/schema.js';
import { defaultCompression, isCompressibleType, negotiateCoding, planCompression, withVary, type CompressionInput } from '../../../../src/proxy/net/compression.js';
import type { HeaderPairs } from '../../../../src/proxy/core/flow.js';

describe('negotiateCoding', () => {
  it.each([
    [undefined, null],
    ['', null],
    ['gzip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['br', 'br'],
    ['gzip, deflate, br', 'br'],
    ['deflate, gzip, br, zstd', 'br'],
    ['br;q=0.5, gzip', 'gzip'],
    ['br;q=0.9, gzip;q=0.9', 'br'],
    ['gzip;q=0, br;q=0', null],
    ['*', 'br'],
    ['*;q=0.5, br;q=0', 'gzip'],
    ['identity;q=1, gzip;q=0.5', null],
    ['identity;q=0.1, gzip', 'gzip'],
    ['deflate', null],
    ['GZIP;Q=1', 'gzip'],
  ] as const)('%j → %s', (header, expected) => {
    expect(negotiateCoding(header)).toBe(expected);
  });
});

describe('isCompressibleType', () => {
  it.each([
    ['text/html; charset=utf-8', true],
    ['application/json', true],
    ['application/problem+json', true],
    ['application/atom+xml', true],
    ['image/svg+xml', true],
    ['application/javascript', true],
    ['application/wasm', true],
    ['text/event-stream', false],
    ['image/png', false],
    ['application/octet-stream', false],
    ['font/woff2', false],
    [undefined, false],
  ] as const)('%s → %s', (type, expected) => {
    expect(isCompressibleType(type, defaultCompression.types)).toBe(expected);
  });

  it('never compresses event streams, even when the types name them', () => {
    expect(isCompressibleType('text/event-stream', ['text/*', 'text/event-stream'])).toBe(false);
  });
});

describe('withVary', () => {
  it.each<[HeaderPairs, string[]]>([
    [[], ['Accept-Encoding']],
    [[['Vary', 'Origin']], ['Origin, Accept-Encoding']],
    [[['vary', 'accept-encoding']], ['accept-encoding']],
    [[['Vary', 'Origin'], ['Vary', 'Accept-Encoding']], ['Origin', 'Accept-Encoding']],
    [[['Vary', '*']], ['*']],
  ])('%j → %j', (headers, expected) => {
    expect(withVary(headers).filter(([k]) => k.toLowerCase() === 'vary').map(([, v]) => v)).toEqual(expected);
  });
});

describe('planCompression', () => {
  const base: CompressionInput = {
    settings: { ...defaultCompression, enabled: true },
    method: 'GET',
    acceptEncoding: 'gzip',
    status: 200,
    headers: [['Content-Type', 'application/json'], ['Content-Length', '5000'], ['ETag', '"abc"']],
    bodySize: 5000,
  };

  it('sets Content-Encoding, drops Content-Length, adds Vary and weakens a strong ETag', () => {
    const plan = planCompression(base);
    expect(plan.coding).toBe('gzip');
    expect(plan.headers).toEqual([['Content-Type', 'application/json'], ['ETag', 'W/"abc"'], ['Vary', 'Accept-Encoding'], ['Content-Encoding', 'gzip']]);
  });

  it('keeps a weak ETag as it is', () => {
    const plan = planCompression({ ...base, headers: [['Content-Type', 'text/plain'], ['ETag', 'W/"x"']] });
    expect(plan.headers).toContainEqual(['ETag', 'W/"x"']);
  });

  it.each<[string, Partial<CompressionInput>]>([
    ['off', { settings: defaultCompression }],
    ['HEAD', { method: 'HEAD' }],
    ['204', { status: 204 }],
    ['304', { status: 304 }],
    ['206', { status: 206 }],
    ['1xx', { status: 101 }],
    ['small', { bodySize: 100 }],
    ['encoded', { headers: [['Content-Type', 'application/json'], ['Content-Encoding', 'br']] }],
    ['no-transform', { headers: [['Content-Type', 'application/json'], ['Cache-Control', 'max-age=60, no-transform']] }],
    ['content-range', { headers: [['Content-Type', 'application/json'], ['Content-Range', 'bytes 0-9/100']] }],
    ['no type', { headers: [] }],
  ])('leaves the response alone: %s', (_name, change) => {
    const input = { ...base, ...change };
    expect(planCompression(input)).toEqual({ coding: null, headers: input.headers });
  });

  it('compresses an identity Content-Encoding and a body of unknown size', () => {
    const plan = planCompression({ ...base, bodySize: null, headers: [['Content-Type', 'text/css'], ['Content-Encoding', 'identity']] });
    expect(plan.coding).toBe('gzip');
    expect(plan.headers.filter(([k]) => k.toLowerCase() === 'content-encoding')).toEqual([['Content-Encoding', 'gzip']]);
  });

  it('adds only Vary when the client accepts no coding', () => {
    const plan = planCompression({ ...base, acceptEncoding: undefined });
    expect(plan.coding).toBeNull();
    expect(plan.headers).toEqual([...base.headers, ['Vary', 'Accept-Encoding']]);
  });
});

describe('config compression', () => {
  it('refuses bad values naming the field', () => {
    const r = configSchema.safeParse({ compression: { gzipLevel: 12, types: ['json'], minBytes: -1, brotliQuality: 20 } });
    expect(r.success).toBe(false);
    expect(formatIssues(r.error!).sort()).toEqual([
      'compression.brotliQuality: expected a brotli quality between 0 and 11',
      'compression.gzipLevel: expected a gzip level between 1 and 9',
      'compression.minBytes: expected a whole number of bytes',
      'compression.types[0]: expected a media type like text/html, text/* or *+json',
    ]);
  });
});
