import { describe, expect, it } from 'vitest';
import type { HeaderPairs } from '../../../../src/proxy/core/flow.js';
import {
  connectionTokens,
  hasHeader,
  pairsFromRaw,
  rawFromPairs,
  removeHeader,
  setHeader,
  stripHopByHop,
  type StripOptions,
} from '../../../../src/proxy/core/headers.js';

describe('pairsFromRaw / rawFromPairs', () => {
  it.each<[string, string[], HeaderPairs]>([
    ['empty', [], []],
    ['one', ['Host', 'a'], [['Host', 'a']]],
    [
      'order, case and repeats kept',
      ['X-B', '1', 'x-a', '2', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'X-Empty', ''],
      [
        ['X-B', '1'],
        ['x-a', '2'],
        ['Set-Cookie', 'a=1'],
        ['set-cookie', 'b=2'],
        ['X-Empty', ''],
      ],
    ],
  ])('%s', (_name, raw, pairs) => {
    expect(pairsFromRaw(raw)).toEqual(pairs);
    expect(rawFromPairs(pairs)).toEqual(raw);
    expect(rawFromPairs(pairsFromRaw(raw))).toEqual(raw);
  });

  it('returns new arrays (never the input)', () => {
    const raw = ['A', '1'];
    const pairs = pairsFromRaw(raw);
    expect(rawFromPairs(pairs)).not.toBe(raw);
  });
});

describe('connectionTokens', () => {
  it.each<[string, HeaderPairs, string[]]>([
    ['none', [['Host', 'x']], []],
    ['single', [['Connection', 'close']], ['close']],
    ['list, trimmed, lowercased', [['connection', ' Keep-Alive ,X-Foo,,  x-BAR ']], ['keep-alive', 'x-foo', 'x-bar']],
    [
      'several Connection fields',
      [
        ['Connection', 'upgrade'],
        ['CONNECTION', 'X-One'],
      ],
      ['upgrade', 'x-one'],
    ],
    ['other fields ignored', [['Proxy-Connection', 'X-Nope']], []],
  ])('%s', (_name, headers, tokens) => {
    expect([...connectionTokens(headers)].sort()).toEqual([...tokens].sort());
  });
});

describe('stripHopByHop (RFC 9110 §7.6.1)', () => {
  const endToEnd: HeaderPairs = [
    ['Host', 'example.com'],
    ['X-Custom-B', '1'],
    ['x-custom-a', '2'],
    ['Accept', '*/*'],
  ];

  it.each(['Connection', 'Keep-Alive', 'Proxy-Connection', 'Proxy-Authenticate', 'Proxy-Authorization', 'TE', 'Transfer-Encoding', 'Upgrade'])(
    'removes %s in any case',
    (name) => {
      for (const variant of [name, name.toLowerCase(), name.toUpperCase()]) {
        const headers: HeaderPairs = [endToEnd[0]!, [variant, 'x'], ...endToEnd.slice(1)];
        expect(stripHopByHop(headers)).toEqual(endToEnd);
      }
    },
  );

  it.each<[string, HeaderPairs, StripOptions, HeaderPairs]>([
    [
      'names listed in Connection are removed too',
      [
        ['Connection', 'X-Hop, x-other'],
        ['X-Hop', '1'],
        ['Accept', '*/*'],
        ['X-OTHER', '2'],
        ['X-Keep', '3'],
      ],
      {},
      [
        ['Accept', '*/*'],
        ['X-Keep', '3'],
      ],
    ],
    [
      'a field named in a second Connection field is removed',
      [
        ['Connection', 'close'],
        ['X-Late', '1'],
        ['connection', 'x-late'],
      ],
      {},
      [],
    ],
    ['Trailer is end to end (RFC 9110 §6.6.2), kept', [['Trailer', 'x-checksum']], {}, [['Trailer', 'x-checksum']]],
    ['TE: trailers dropped by default', [['TE', 'trailers']], {}, []],
    ['TE: trailers kept when asked', [['TE', 'trailers']], { keepTeTrailers: true }, [['TE', 'trailers']]],
    ['TE: Trailers (case, spaces) kept when asked', [['te', ' Trailers ']], { keepTeTrailers: true }, [['te', ' Trailers ']]],
    ['TE: gzip dropped even when trailers are kept', [['TE', 'gzip']], { keepTeTrailers: true }, []],
    ['TE: trailers named in Connection still kept when asked', [['Connection', 'TE'], ['TE', 'trailers']], { keepTeTrailers: true }, [['TE', 'trailers']]],
    [
      'keepUpgrade keeps Upgrade and normalises Connection to Upgrade',
      [
        ['Connection', 'keep-alive, Upgrade'],
        ['Upgrade', 'websocket'],
        ['Keep-Alive', 'timeout=5'],
        ['Sec-WebSocket-Key', 'k'],
      ],
      { keepUpgrade: true },
      [
        ['Connection', 'Upgrade'],
        ['Upgrade', 'websocket'],
        ['Sec-WebSocket-Key', 'k'],
      ],
    ],
    [
      'without keepUpgrade a WebSocket handshake loses Upgrade',
      [
        ['Connection', 'Upgrade'],
        ['Upgrade', 'websocket'],
      ],
      {},
      [],
    ],
  ])('%s', (_name, headers, opts, expected) => {
    expect(stripHopByHop(headers, opts)).toEqual(expected);
  });

  it('keeps order and case of everything else and does not mutate its input', () => {
    const headers: HeaderPairs = [
      ['X-Z', 'z'],
      ['Connection', 'close'],
      ['x-a', 'a'],
      ['Transfer-Encoding', 'chunked'],
      ['X-MiXeD', 'm'],
      ['x-a', 'again'],
    ];
    const copy = structuredClone(headers);
    expect(stripHopByHop(headers)).toEqual([
      ['X-Z', 'z'],
      ['x-a', 'a'],
      ['X-MiXeD', 'm'],
      ['x-a', 'again'],
    ]);
    expect(headers).toEqual(copy);
  });
});

describe('setHeader / removeHeader / hasHeader', () => {
  const base: HeaderPairs = [
    ['Host', 'h'],
    ['X-Dup', '1'],
    ['Accept', '*/*'],
    ['x-dup', '2'],
  ];

  it.each<[string, string, string, HeaderPairs]>([
    [
      'replaces the first in place, drops later duplicates, keeps its case',
      'X-DUP',
      'new',
      [
        ['Host', 'h'],
        ['X-Dup', 'new'],
        ['Accept', '*/*'],
      ],
    ],
    [
      'appends a missing header with the given case',
      'X-New',
      'v',
      [...base, ['X-New', 'v']],
    ],
  ])('setHeader %s', (_name, name, value, expected) => {
    expect(setHeader(base, name, value)).toEqual(expected);
    expect(base).toHaveLength(4); // input untouched
  });

  it.each<[string, HeaderPairs]>([
    [
      'x-dup',
      [
        ['Host', 'h'],
        ['Accept', '*/*'],
      ],
    ],
    ['absent', base],
  ])('removeHeader %s', (name, expected) => {
    expect(removeHeader(base, name)).toEqual(expected);
  });

  it.each<[string, boolean]>([
    ['host', true],
    ['HOST', true],
    ['x-dup', true],
    ['X-Missing', false],
  ])('hasHeader %s → %s', (name, expected) => {
    expect(hasHeader(base, name)).toBe(expected);
  });
});
