import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  agreedExtensions,
  CappedBytes,
  WsFrameParser,
  type WsParseEvent,
  type WsParsedMessage,
  type WsParserOptions,
  type WsProtocolErrorCode,
} from '../../../../src/proxy/core/ws-frames.js';

// --- a frame encoder of our own (RFC 6455 §5.2), deliberately able to write invalid frames ------

interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** A masking key; masked frames are what clients send (RFC 6455 §5.3). */
  mask?: Buffer;
  /** Force a length encoding (7, 16 or 64 bits) even when a shorter one would do. */
  lengthBits?: 7 | 16 | 64;
}

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

function frame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const len = payload.length;
  const bits = spec.lengthBits ?? (len < 126 ? 7 : len < 65536 ? 16 : 64);
  const b0 = ((spec.fin ?? true) ? 0x80 : 0) | (spec.rsv1 ? 0x40 : 0) | (spec.rsv2 ? 0x20 : 0) | (spec.rsv3 ? 0x10 : 0) | spec.opcode;
  const maskBit = spec.mask ? 0x80 : 0;
  let head: Buffer;
  if (bits === 7) head = Buffer.from([b0, maskBit | len]);
  else if (bits === 16) {
    head = Buffer.alloc(4);
    head[0] = b0;
    head[1] = maskBit | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = b0;
    head[1] = maskBit | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  if (!spec.mask) return Buffer.concat([head, payload]);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i]! ^ spec.mask[i & 3]!;
  return Buffer.concat([head, spec.mask, masked]);
}

function closePayload(code: number, reason = ''): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code, 0);
  return Buffer.concat([b, Buffer.from(reason)]);
}

/** A raw 64-bit-length header with the given high and low words. */
function header64(hi: number, lo: number): Buffer {
  const b = Buffer.alloc(10);
  b[0] = 0x82;
  b[1] = 127;
  b.writeUInt32BE(hi, 2);
  b.writeUInt32BE(lo, 6);
  return b;
}

function parseAll(bytes: Buffer, opts?: WsParserOptions, split?: 'whole' | 'bytes' | number): WsParseEvent[] {
  const p = new WsFrameParser(opts);
  if (split === undefined || split === 'whole') return p.push(bytes);
  const step = split === 'bytes' ? 1 : split;
  const out: WsParseEvent[] = [];
  for (let i = 0; i < bytes.length; i += step) out.push(...p.push(bytes.subarray(i, i + step)));
  return out;
}

function messages(events: WsParseEvent[]): WsParsedMessage[] {
  return events.flatMap((e) => (e.kind === 'message' ? [e.message] : []));
}

function errors(events: WsParseEvent[]): WsProtocolErrorCode[] {
  return events.flatMap((e) => (e.kind === 'error' ? [e.code] : []));
}

// --------------------------------------------------------------------------------------------------

describe('WsFrameParser: single frames', () => {
  const payloads = { short: 'hello', empty: '' };
  it.each([
    ['text', 0x1, 'text', payloads.short],
    ['binary', 0x2, 'binary', payloads.short],
    ['ping', 0x9, 'ping', payloads.short],
    ['pong', 0xa, 'pong', payloads.short],
    ['empty text', 0x1, 'text', payloads.empty],
    ['empty ping', 0x9, 'ping', payloads.empty],
  ] as const)('%s, unmasked and masked', (_name, opcode, type, text) => {
    for (const mask of [undefined, MASK]) {
      const events = parseAll(frame({ opcode, payload: text, ...(mask ? { mask } : {}) }));
      expect(errors(events)).toEqual([]);
      expect(events[0]).toMatchObject({ kind: 'frame', header: { fin: true, opcode, masked: mask !== undefined, length: text.length } });
      const [m] = messages(events);
      expect(m).toMatchObject({ type, size: text.length, truncated: false, compressed: false, frames: 1 });
      expect(m!.payload.toString()).toBe(text);
    }
  });

  it.each([
    ['close with code and reason', closePayload(1000, 'bye'), 1000, 'bye'],
    ['close with code only', closePayload(1001), 1001, ''],
    ['close with no body', Buffer.alloc(0), null, null],
    ['close with a UTF-8 reason', closePayload(4000, 'ça va ✓'), 4000, 'ça va ✓'],
    ['close with invalid UTF-8 (decoded leniently)', Buffer.concat([closePayload(1002), Buffer.from([0xff, 0xfe])]), 1002, '\ufffd\ufffd'],
  ] as const)('%s', (_name, body, code, reason) => {
    for (const mask of [undefined, MASK]) {
      const [m] = messages(parseAll(frame({ opcode: 0x8, payload: body, ...(mask ? { mask } : {}) })));
      expect(m).toMatchObject({ type: 'close', size: body.length, closeCode: code, closeReason: reason });
      expect(m!.payload.equals(body)).toBe(true);
    }
  });

  it('refuses a one-byte close body', () => {
    expect(errors(parseAll(frame({ opcode: 0x8, payload: Buffer.from([3]) })))).toEqual(['BAD_CLOSE_PAYLOAD']);
  });
});

describe('WsFrameParser: payload lengths', () => {
  it.each([
    ['7-bit, 0', 0, 7],
    ['7-bit, 125', 125, 7],
    ['16-bit, 126', 126, 16],
    ['16-bit, 65535', 65535, 16],
    ['64-bit, 65536', 65536, 64],
    ['64-bit, 200000', 200_000, 64],
    ['non-minimal 16-bit for 5 bytes (tolerated)', 5, 16],
    ['non-minimal 64-bit for 300 bytes (tolerated)', 300, 64],
  ] as const)('%s', (_name, len, bits) => {
    const payload = Buffer.alloc(len);
    for (let i = 0; i < len; i++) payload[i] = (i * 7) & 0xff;
    for (const mask of [undefined, MASK]) {
      const bytes = frame({ opcode: 0x2, payload, lengthBits: bits, ...(mask ? { mask } : {}) });
      for (const split of ['whole', 1000] as const) {
        const events = parseAll(bytes, { maxPayloadBytes: 1 << 20 }, split);
        expect(errors(events)).toEqual([]);
        const [m] = messages(events);
        expect(m!.size).toBe(len);
        expect(m!.payload.equals(payload)).toBe(true);
      }
    }
  });

  it.each([
    ['top bit set', header64(0x80000000, 0)],
    ['beyond 2^53 - 1', header64(0x00200000, 0)],
  ])('refuses a 64-bit length with %s', (_name, bytes) => {
    expect(errors(parseAll(bytes))).toEqual(['LENGTH_TOO_LARGE']);
  });

  it('accepts a header announcing 2^53 - 1 bytes without allocating them', () => {
    const p = new WsFrameParser({ maxPayloadBytes: 16 });
    const events = p.push(Buffer.concat([header64(0x1fffff, 0xffffffff), Buffer.alloc(1000, 1)]));
    expect(errors(events)).toEqual([]);
    expect(events[0]).toMatchObject({ kind: 'frame', header: { length: Number.MAX_SAFE_INTEGER } });
    expect(p.midMessage).toBe(true);
  });
});

describe('WsFrameParser: fragmentation', () => {
  const stream = Buffer.concat([
    frame({ opcode: 0x1, payload: 'Hel', fin: false, mask: MASK }),
    frame({ opcode: 0x9, payload: 'p1', mask: MASK }),
    frame({ opcode: 0x0, payload: 'lo', fin: false, mask: MASK }),
    frame({ opcode: 0xa, payload: 'p2', mask: MASK }),
    frame({ opcode: 0x0, payload: ' world', fin: true, mask: MASK }),
    frame({ opcode: 0x2, payload: Buffer.from([1, 2, 3]), fin: false }),
    frame({ opcode: 0x0, payload: Buffer.alloc(0), fin: false }),
    frame({ opcode: 0x0, payload: Buffer.from([4]), fin: true }),
    frame({ opcode: 0x8, payload: closePayload(1000, 'done') }),
  ]);

  it.each([['whole'], ['bytes'], [3], [7], [64]] as const)('reassembles with interleaved control frames, fed %s', (split) => {
    const events = parseAll(stream, undefined, split);
    expect(errors(events)).toEqual([]);
    expect(events.filter((e) => e.kind === 'frame')).toHaveLength(9);
    const got = messages(events).map((m) => ({ type: m.type, text: m.type === 'binary' ? [...m.payload] : m.payload.toString(), frames: m.frames, size: m.size }));
    expect(got).toEqual([
      { type: 'ping', text: 'p1', frames: 1, size: 2 },
      { type: 'pong', text: 'p2', frames: 1, size: 2 },
      { type: 'text', text: 'Hello world', frames: 3, size: 11 },
      { type: 'binary', text: [1, 2, 3, 4], frames: 3, size: 4 },
      { type: 'close', text: closePayload(1000, 'done').toString(), frames: 1, size: 6 },
    ]);
  });

  it('gives the same result for every split point of a two-frame message', () => {
    const bytes = Buffer.concat([frame({ opcode: 0x1, payload: 'abcdef', fin: false, mask: MASK }), frame({ opcode: 0x0, payload: 'ghij', mask: MASK })]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const p = new WsFrameParser();
      const ms = messages([...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut))]);
      expect(ms.map((m) => m.payload.toString())).toEqual(['abcdefghij']);
    }
  });
});

describe('WsFrameParser: capture limit', () => {
  it.each([
    ['one frame, unmasked', [frame({ opcode: 0x2, payload: Buffer.alloc(20, 9) })]],
    ['one frame, masked', [frame({ opcode: 0x2, payload: Buffer.alloc(20, 9), mask: MASK })]],
    [
      'across fragments',
      [frame({ opcode: 0x2, payload: Buffer.alloc(6, 9), fin: false, mask: MASK }), frame({ opcode: 0x0, payload: Buffer.alloc(6, 9), fin: false, mask: MASK }), frame({ opcode: 0x0, payload: Buffer.alloc(8, 9), mask: MASK })],
    ],
  ])('keeps the head and counts the rest: %s', (_name, frames) => {
    for (const split of ['whole', 'bytes'] as const) {
      const [m] = messages(parseAll(Buffer.concat(frames), { maxPayloadBytes: 10 }, split));
      expect(m).toMatchObject({ size: 20, truncated: true });
      expect(m!.payload.equals(Buffer.alloc(10, 9))).toBe(true);
    }
  });

  it('is exact at the limit', () => {
    const [m] = messages(parseAll(frame({ opcode: 0x1, payload: 'x'.repeat(10) }), { maxPayloadBytes: 10 }));
    expect(m).toMatchObject({ size: 10, truncated: false });
  });

  it('caps control frames too, while still reading the close code', () => {
    const [m] = messages(parseAll(frame({ opcode: 0x8, payload: closePayload(1000, 'a long reason') }), { maxPayloadBytes: 4 }));
    expect(m).toMatchObject({ size: 15, truncated: true, closeCode: 1000, closeReason: 'a long reason' });
    expect(m!.payload).toHaveLength(4);
  });

  it('never holds more than the limit of a large message, whatever the chunking', () => {
    const limit = 64 * 1024;
    const payload = Buffer.alloc(4 * 1024 * 1024, 0x61);
    const bytes = frame({ opcode: 0x2, payload, mask: MASK });
    const [m] = messages(parseAll(bytes, { maxPayloadBytes: limit }, 16 * 1024));
    expect(m).toMatchObject({ size: payload.length, truncated: true });
    expect(m!.payload).toHaveLength(limit);
    // Its own allocation, not a view into a bigger buffer that would stay alive with it.
    expect(m!.payload.buffer.byteLength).toBe(limit);
    expect(m!.payload.equals(payload.subarray(0, limit))).toBe(true);
  });
});

describe('WsFrameParser: garbage', () => {
  it.each<[string, Buffer, WsProtocolErrorCode, WsParserOptions?]>([
    ['RSV2 set', frame({ opcode: 0x1, payload: 'x', rsv2: true }), 'RESERVED_BITS'],
    ['RSV3 set', frame({ opcode: 0x1, payload: 'x', rsv3: true }), 'RESERVED_BITS'],
    ['RSV1 without permessage-deflate', frame({ opcode: 0x1, payload: 'x', rsv1: true }), 'RESERVED_BITS'],
    ['RSV1 on a control frame', frame({ opcode: 0x9, payload: 'x', rsv1: true }), 'RESERVED_BITS', { perMessageDeflate: true }],
    [
      'RSV1 on a continuation frame',
      Buffer.concat([frame({ opcode: 0x1, payload: 'x', fin: false, rsv1: true }), frame({ opcode: 0x0, payload: 'y', rsv1: true })]),
      'RESERVED_BITS',
      { perMessageDeflate: true },
    ],
    ['opcode 0x3', frame({ opcode: 0x3, payload: 'x' }), 'UNKNOWN_OPCODE'],
    ['opcode 0xB', frame({ opcode: 0xb, payload: 'x' }), 'UNKNOWN_OPCODE'],
    ['fragmented ping', frame({ opcode: 0x9, payload: 'x', fin: false }), 'CONTROL_FRAGMENTED'],
    ['ping of 126 bytes', frame({ opcode: 0x9, payload: Buffer.alloc(126) }), 'CONTROL_TOO_LONG'],
    ['continuation first', frame({ opcode: 0x0, payload: 'x' }), 'UNEXPECTED_CONTINUATION'],
    ['text inside a fragmented message', Buffer.concat([frame({ opcode: 0x1, payload: 'a', fin: false }), frame({ opcode: 0x1, payload: 'b' })]), 'EXPECTED_CONTINUATION'],
    ['an HTTP request ("G" reads as opcode 0x7)', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'UNKNOWN_OPCODE'],
  ])('%s', (_name, bytes, code, opts) => {
    for (const split of ['whole', 'bytes'] as const) {
      const p = new WsFrameParser(opts);
      const events: WsParseEvent[] = [];
      const step = split === 'bytes' ? 1 : bytes.length;
      for (let i = 0; i < bytes.length; i += step) events.push(...p.push(bytes.subarray(i, i + step)));
      expect(errors(events)).toEqual([code]);
      expect(p.error?.code).toBe(code);
      // Once broken it stays quiet: the relay keeps piping, capture has stopped.
      expect(p.push(frame({ opcode: 0x1, payload: 'fine' }))).toEqual([]);
    }
  });

  it('never throws on random bytes and reports at most one error', () => {
    let seed = 0x2545f491;
    const rand = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x1_0000_0000;
    };
    for (let round = 0; round < 500; round++) {
      const bytes = Buffer.alloc(1 + Math.floor(rand() * 300));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
      const p = new WsFrameParser({ maxPayloadBytes: 64, perMessageDeflate: rand() < 0.5 });
      let events: WsParseEvent[] = [];
      expect(() => {
        let i = 0;
        while (i < bytes.length) {
          const n = 1 + Math.floor(rand() * 20);
          events = events.concat(p.push(bytes.subarray(i, i + n)));
          i += n;
        }
      }).not.toThrow();
      expect(errors(events).length).toBeLessThanOrEqual(1);
      for (const m of messages(events)) expect(m.payload.length).toBeLessThanOrEqual(64);
    }
  });
});

describe('WsFrameParser: permessage-deflate (RFC 7692)', () => {
  /** What a sender puts on the wire: deflate, then drop the 00 00 ff ff tail (RFC 7692 §7.2.1). */
  function compress(text: string): Buffer {
    const out = deflateRawSync(Buffer.from(text), { finishFlush: 2 /* Z_SYNC_FLUSH */ });
    return out.subarray(0, out.length - 4);
  }

  it('hands compressed payload on, unmasked, and marks the message compressed', () => {
    const text = 'hello hello hello hello compressed world';
    const data = compress(text);
    const half = Math.floor(data.length / 2);
    const bytes = Buffer.concat([
      frame({ opcode: 0x1, payload: data.subarray(0, half), fin: false, rsv1: true, mask: MASK }),
      frame({ opcode: 0x9, payload: 'ping', mask: MASK }),
      frame({ opcode: 0x0, payload: data.subarray(half), mask: MASK }),
    ]);
    for (const split of ['whole', 'bytes'] as const) {
      const events = parseAll(bytes, { perMessageDeflate: true }, split);
      expect(errors(events)).toEqual([]);
      expect(events.find((e) => e.kind === 'compressed-start')).toEqual({ kind: 'compressed-start', type: 'text' });
      const chunks = events.flatMap((e) => (e.kind === 'compressed-data' ? [e.chunk] : []));
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
      expect(inflateRawSync(Buffer.concat([...chunks, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: 2 /* Z_SYNC_FLUSH */ }).toString()).toBe(text);
      const ms = messages(events);
      expect(ms.map((m) => m.type)).toEqual(['ping', 'text']);
      expect(ms[1]).toMatchObject({ compressed: true, size: data.length, frames: 2, payload: Buffer.alloc(0) });
    }
  });

  it('leaves messages without RSV1 uncompressed', () => {
    const [m] = messages(parseAll(frame({ opcode: 0x1, payload: 'plain' }), { perMessageDeflate: true }));
    expect(m).toMatchObject({ compressed: false });
    expect(m!.payload.toString()).toBe('plain');
  });
});

describe('CappedBytes', () => {
  it.each([
    ['nothing', [], 4, '', 0, false],
    ['below the limit', ['ab', 'cd'], 8, 'abcd', 4, false],
    ['at the limit', ['abcd'], 4, 'abcd', 4, false],
    ['across the limit', ['abc', 'def', 'gh'], 4, 'abcd', 8, true],
    ['a zero limit', ['abc'], 0, '', 3, true],
  ] as const)('%s', (_name, parts, limit, kept, size, truncated) => {
    const c = new CappedBytes(limit);
    for (const p of parts) c.push(Buffer.from(p));
    const out = c.finish();
    expect(out.payload.toString()).toBe(kept);
    expect(out.size).toBe(size);
    expect(out.truncated).toBe(truncated);
  });

  it('fills a reservation across pushes and unmasks with the frame offset', () => {
    const c = new CappedBytes(100);
    const plain = Buffer.from('0123456789');
    const masked = Buffer.from(plain.map((b, i) => b ^ MASK[i & 3]!));
    c.expect(10);
    c.push(masked.subarray(0, 3), MASK, 0);
    c.push(masked.subarray(3), MASK, 3);
    expect(c.finish().payload.toString()).toBe('0123456789');
  });
});

describe('agreedExtensions', () => {
  const defaults = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
  it.each([
    ['no header', [], { kind: 'none' }],
    ['an empty value', [''], { kind: 'none' }],
    ['plain permessage-deflate', ['permessage-deflate'], { kind: 'permessage-deflate', params: defaults }],
    [
      'all parameters',
      ['permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9'],
      { kind: 'permessage-deflate', params: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 9 } },
    ],
    ['a quoted value and odd case', ['Permessage-Deflate;Client_Max_Window_Bits="12"'], { kind: 'permessage-deflate', params: { ...defaults, clientMaxWindowBits: 12 } }],
    ['client_max_window_bits without a value', ['permessage-deflate; client_max_window_bits'], { kind: 'permessage-deflate', params: defaults }],
  ] as const)('%s', (_name, values, expected) => {
    expect(agreedExtensions(values)).toEqual(expected);
  });

  it.each([
    ['another extension', ['x-webkit-deflate-frame']],
    ['two extensions', ['permessage-deflate, x-custom']],
    ['two header values', ['permessage-deflate', 'permessage-deflate']],
    ['a window of 7 bits', ['permessage-deflate; server_max_window_bits=7']],
    ['a window of 16 bits', ['permessage-deflate; server_max_window_bits=16']],
    ['a non-numeric window', ['permessage-deflate; server_max_window_bits=abc']],
    ['a repeated parameter', ['permessage-deflate; server_no_context_takeover; server_no_context_takeover']],
    ['a value on a flag', ['permessage-deflate; server_no_context_takeover=1']],
    ['an unknown parameter', ['permessage-deflate; foo=bar']],
  ])('refuses %s', (_name, values) => {
    expect(agreedExtensions(values).kind).toBe('unsupported');
  });
});
