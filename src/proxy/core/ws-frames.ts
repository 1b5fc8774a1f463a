import type { WebSocketMessage } from './flow.js';

/**
 * The WebSocket wire format as seen by a watcher (RFC 6455 §5): an incremental parser that turns
 * bytes split anywhere into whole messages, plus the permessage-deflate negotiation (RFC 7692 §7).
 * The relay forwards the original bytes; this only looks at them, so it never throws on garbage:
 * it reports a protocol error once and then ignores the rest of that direction.
 */

/** Payload bytes kept per captured message; beyond it the message is marked truncated. */
export const WS_PAYLOAD_CAPTURE_LIMIT = 64 * 1024;

/** Messages kept on one flow; later ones are counted in `droppedMessages`. */
export const WS_MAX_MESSAGES_PER_FLOW = 1000;

/** Close code recorded when a close frame carries no status (RFC 6455 §7.1.5, §7.4.1). */
export const WS_CLOSE_NO_STATUS = 1005;

export type WsMessageType = WebSocketMessage['type'];
export type WsDataType = 'text' | 'binary';

/** Opcodes (RFC 6455 §5.2, §11.8). */
export const WsOpcode = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** Why a byte stream stopped being a WebSocket stream we can follow. */
export type WsProtocolErrorCode =
  /** RSV1-3 set without a negotiated extension defining them (RFC 6455 §5.2; RFC 7692 §6.1). */
  | 'RESERVED_BITS'
  /** Opcode 0x3-0x7 or 0xB-0xF (RFC 6455 §5.2). */
  | 'UNKNOWN_OPCODE'
  /** A control frame with FIN clear (RFC 6455 §5.5). */
  | 'CONTROL_FRAGMENTED'
  /** A control frame longer than 125 bytes (RFC 6455 §5.5). */
  | 'CONTROL_TOO_LONG'
  /** A 64-bit length with its top bit set, or beyond 2^53 - 1 (RFC 6455 §5.2). */
  | 'LENGTH_TOO_LARGE'
  /** A continuation frame with no message to continue (RFC 6455 §5.4). */
  | 'UNEXPECTED_CONTINUATION'
  /** A new text/binary frame while a fragmented message is still open (RFC 6455 §5.4). */
  | 'EXPECTED_CONTINUATION'
  /** A close payload of exactly one byte (RFC 6455 §5.5.1: a body starts with a 2-byte code). */
  | 'BAD_CLOSE_PAYLOAD';

/** A frame header as read off the wire. */
export interface WsFrameHeader {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  /** Payload length in bytes. */
  length: number;
}

/** A message reassembled from its frames (a control frame is a message of its own). */
export interface WsParsedMessage {
  type: WsMessageType;
  /** Payload bytes on the wire over all frames (unmasked; still compressed when `compressed`). */
  size: number;
  /** The first `maxPayloadBytes` of the payload; empty for a compressed message (see `compressed-data`). */
  payload: Buffer;
  /** True when `size` exceeds what `payload` holds (never for a compressed message). */
  truncated: boolean;
  /** Sent with permessage-deflate: RSV1 set on its first frame (RFC 7692 §6). */
  compressed: boolean;
  /** How many frames carried it. */
  frames: number;
  /** Close frames: the status code, or null when the frame had no body. */
  closeCode: number | null;
  /** Close frames: the reason (UTF-8, decoded leniently), or null when the frame had no body. */
  closeReason: string | null;
}

export type WsParseEvent =
  /** A frame header was read (its payload may follow in later pushes). */
  | { kind: 'frame'; header: WsFrameHeader }
  /** A compressed data message starts; its payload follows as `compressed-data`. */
  | { kind: 'compressed-start'; type: WsDataType }
  /** Unmasked, still compressed payload bytes of the open compressed message, in order. */
  | { kind: 'compressed-data'; chunk: Buffer }
  /** A message is complete. */
  | { kind: 'message'; message: WsParsedMessage }
  /** The stream broke the protocol; nothing more is reported for it. */
  | { kind: 'error'; code: WsProtocolErrorCode; detail: string };

export interface WsParserOptions {
  /** Payload bytes kept per message. @default 65536 */
  maxPayloadBytes?: number;
  /** permessage-deflate was negotiated, so RSV1 marks a compressed message (RFC 7692 §6). @default false */
  perMessageDeflate?: boolean;
}

/**
 * Keeps the first `limit` bytes pushed into it and counts all of them. Never holds more than
 * `limit` bytes, however much passes.
 */
export class CappedBytes {
  private parts: Buffer[] = [];
  /** A reservation for the bytes announced by `expect` (one allocation per frame). */
  private cur: Buffer | null = null;
  private curPos = 0;
  private kept = 0;
  private total = 0;

  constructor(readonly limit: number) {}

  /** Bytes counted so far. */
  get size(): number {
    return this.total;
  }

  /** The next `n` bytes belong together: keep the part of them that fits in one allocation. */
  expect(n: number): void {
    this.seal();
    const room = Math.min(n, this.limit - this.kept);
    if (room <= 0) return;
    // allocUnsafeSlow: not a slice of Node's shared pool, so keeping it pins nothing else; every
    // byte is written before it is read.
    this.cur = Buffer.allocUnsafeSlow(room);
    this.curPos = 0;
    this.kept += room;
  }

  /**
   * Count `src` and keep what fits. With `mask`, bytes are unmasked while copied (RFC 6455 §5.3);
   * `maskOffset` is the position of `src[0]` within its frame's payload.
   */
  push(src: Buffer, mask: Buffer | null = null, maskOffset = 0): void {
    this.total += src.length;
    let i = 0;
    if (this.cur) {
      const n = Math.min(this.cur.length - this.curPos, src.length);
      copyBytes(this.cur, this.curPos, src, 0, n, mask, maskOffset);
      this.curPos += n;
      i = n;
      if (this.curPos === this.cur.length) this.seal();
    }
    const n = Math.min(src.length - i, this.limit - this.kept);
    if (n > 0) {
      const part = Buffer.allocUnsafeSlow(n);
      copyBytes(part, 0, src, i, n, mask, maskOffset + i);
      this.parts.push(part);
      this.kept += n;
    }
  }

  finish(): { payload: Buffer; size: number; truncated: boolean } {
    this.seal();
    const parts = this.parts;
    this.parts = [];
    const payload = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    return { payload, size: this.total, truncated: this.total > payload.length };
  }

  private seal(): void {
    if (!this.cur) return;
    if (this.curPos > 0) this.parts.push(this.curPos === this.cur.length ? this.cur : this.cur.subarray(0, this.curPos));
    // An unfilled reservation gives its room back.
    this.kept -= this.cur.length - this.curPos;
    this.cur = null;
    this.curPos = 0;
  }
}

function copyBytes(dst: Buffer, dstPos: number, src: Buffer, srcPos: number, n: number, mask: Buffer | null, maskOffset: number): void {
  if (n <= 0) return;
  if (!mask) {
    src.copy(dst, dstPos, srcPos, srcPos + n);
    return;
  }
  for (let k = 0; k < n; k++) dst[dstPos + k] = src[srcPos + k]! ^ mask[(maskOffset + k) & 3]!;
}

interface OpenMessage {
  type: WsDataType;
  compressed: boolean;
  frames: number;
  /** Uncompressed messages keep their head here; compressed ones only count. */
  bytes: CappedBytes | null;
  compressedSize: number;
}

interface OpenFrame {
  header: WsFrameHeader;
  remaining: number;
  /** Position within the payload, for the mask (RFC 6455 §5.3). */
  offset: number;
  mask: Buffer | null;
  /** Control frames keep their whole payload (at most 125 bytes) to read a close code. */
  control: CappedBytes | null;
}

const CONTROL_MAX = 125;
const EMPTY = Buffer.alloc(0);
const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * One direction of a WebSocket connection, parsed incrementally. `push` takes the next bytes (any
 * split, one byte at a time too) and returns what they completed. Pure: no IO, no timers.
 */
export class WsFrameParser {
  private readonly limit: number;
  private readonly deflate: boolean;
  private readonly head = Buffer.alloc(14);
  private headLen = 0;
  private frame: OpenFrame | null = null;
  private message: OpenMessage | null = null;
  private broken: { code: WsProtocolErrorCode; detail: string } | null = null;

  constructor(opts: WsParserOptions = {}) {
    this.limit = Math.max(0, opts.maxPayloadBytes ?? WS_PAYLOAD_CAPTURE_LIMIT);
    this.deflate = opts.perMessageDeflate ?? false;
  }

  /** The protocol error that stopped this parser, if any. */
  get error(): { code: WsProtocolErrorCode; detail: string } | null {
    return this.broken;
  }

  /** True while a frame or a fragmented message is incomplete. */
  get midMessage(): boolean {
    return this.headLen > 0 || this.frame !== null || this.message !== null;
  }

  push(chunk: Buffer): WsParseEvent[] {
    const out: WsParseEvent[] = [];
    let pos = 0;
    while (pos < chunk.length && !this.broken) {
      if (this.frame) pos = this.readPayload(chunk, pos, out);
      else pos = this.readHeader(chunk, pos, out);
    }
    return out;
  }

  private fail(out: WsParseEvent[], code: WsProtocolErrorCode, detail: string): void {
    this.broken = { code, detail };
    this.frame = null;
    this.message = null;
    out.push({ kind: 'error', code, detail });
  }

  private readHeader(chunk: Buffer, pos: number, out: WsParseEvent[]): number {
    const head = this.head;
    while (this.headLen < 2 && pos < chunk.length) head[this.headLen++] = chunk[pos++]!;
    if (this.headLen < 2) return pos;
    const b0 = head[0]!;
    const b1 = head[1]!;
    const len7 = b1 & 0x7f;
    const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
    if (this.headLen === 2 && !this.checkFirstBytes(b0, len7, out)) return pos;
    const take = Math.min(need - this.headLen, chunk.length - pos);
    chunk.copy(head, this.headLen, pos, pos + take);
    this.headLen += take;
    pos += take;
    if (this.headLen < need) return pos;

    let length = len7;
    let at = 2;
    if (len7 === 126) {
      length = head.readUInt16BE(2);
      at = 4;
    } else if (len7 === 127) {
      const hi = head.readUInt32BE(2);
      // RFC 6455 §5.2: the most significant bit MUST be 0. Past 2^53 - 1 a length is not exact
      // as a JS number, and no real frame comes near it: treat both as garbage.
      if (hi >= 0x80000000) {
        this.fail(out, 'LENGTH_TOO_LARGE', 'the 64-bit payload length has its most significant bit set');
        return pos;
      }
      if (hi > 0x1fffff) {
        this.fail(out, 'LENGTH_TOO_LARGE', 'the 64-bit payload length exceeds 2^53 - 1');
        return pos;
      }
      length = hi * 0x1_0000_0000 + head.readUInt32BE(6);
      at = 10;
    }
    const masked = (b1 & 0x80) !== 0;
    const header: WsFrameHeader = {
      fin: (b0 & 0x80) !== 0,
      rsv1: (b0 & 0x40) !== 0,
      rsv2: (b0 & 0x20) !== 0,
      rsv3: (b0 & 0x10) !== 0,
      opcode: b0 & 0x0f,
      masked,
      length,
    };
    this.headLen = 0;
    this.beginFrame(header, masked ? Buffer.from(head.subarray(at, at + 4)) : null, out);
    return pos;
  }

  /** Checks that need only the first two bytes, so garbage is refused before reading further. */
  private checkFirstBytes(b0: number, len7: number, out: WsParseEvent[]): boolean {
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    if (b0 & 0x30) {
      this.fail(out, 'RESERVED_BITS', `RSV2/RSV3 set (first byte 0x${b0.toString(16)}) and no extension defines them`);
      return false;
    }
    const isControl = opcode >= 0x8;
    if (opcode !== 0x0 && opcode !== 0x1 && opcode !== 0x2 && opcode !== 0x8 && opcode !== 0x9 && opcode !== 0xa) {
      this.fail(out, 'UNKNOWN_OPCODE', `reserved opcode 0x${opcode.toString(16)}`);
      return false;
    }
    // RFC 7692 §6.1: RSV1 means "compressed" only on the first frame of a data message.
    if (rsv1 && (!this.deflate || isControl || opcode === 0x0)) {
      this.fail(out, 'RESERVED_BITS', this.deflate ? `RSV1 set on a ${isControl ? 'control' : 'continuation'} frame` : 'RSV1 set but permessage-deflate was not negotiated');
      return false;
    }
    if (isControl && !fin) {
      this.fail(out, 'CONTROL_FRAGMENTED', `control frame 0x${opcode.toString(16)} without FIN`);
      return false;
    }
    if (isControl && len7 > CONTROL_MAX) {
      this.fail(out, 'CONTROL_TOO_LONG', `control frame 0x${opcode.toString(16)} longer than 125 bytes`);
      return false;
    }
    if (opcode === 0x0 && !this.message) {
      this.fail(out, 'UNEXPECTED_CONTINUATION', 'continuation frame with no message in progress');
      return false;
    }
    if ((opcode === 0x1 || opcode === 0x2) && this.message) {
      this.fail(out, 'EXPECTED_CONTINUATION', `new ${opcode === 0x1 ? 'text' : 'binary'} frame while a fragmented message is still open`);
      return false;
    }
    return true;
  }

  private beginFrame(header: WsFrameHeader, mask: Buffer | null, out: WsParseEvent[]): void {
    out.push({ kind: 'frame', header });
    const frame: OpenFrame = { header, remaining: header.length, offset: 0, mask, control: null };
    if (header.opcode >= 0x8) {
      frame.control = new CappedBytes(CONTROL_MAX);
      frame.control.expect(header.length);
    } else {
      if (header.opcode !== 0x0) {
        const type: WsDataType = header.opcode === 0x1 ? 'text' : 'binary';
        const compressed = header.rsv1;
        this.message = { type, compressed, frames: 0, bytes: compressed ? null : new CappedBytes(this.limit), compressedSize: 0 };
        if (compressed) out.push({ kind: 'compressed-start', type });
      }
      this.message!.bytes?.expect(header.length);
    }
    this.frame = frame;
    if (header.length === 0) this.endFrame(out);
  }

  private readPayload(chunk: Buffer, pos: number, out: WsParseEvent[]): number {
    const frame = this.frame!;
    const n = Math.min(frame.remaining, chunk.length - pos);
    const part = chunk.subarray(pos, pos + n);
    if (frame.control) frame.control.push(part, frame.mask, frame.offset);
    else {
      const msg = this.message!;
      if (msg.bytes) msg.bytes.push(part, frame.mask, frame.offset);
      else {
        msg.compressedSize += n;
        out.push({ kind: 'compressed-data', chunk: frame.mask ? unmaskCopy(part, frame.mask, frame.offset) : part });
      }
    }
    frame.offset += n;
    frame.remaining -= n;
    if (frame.remaining === 0) this.endFrame(out);
    return pos + n;
  }

  private endFrame(out: WsParseEvent[]): void {
    const frame = this.frame!;
    this.frame = null;
    const { header } = frame;
    if (frame.control) {
      const { payload } = frame.control.finish();
      const type: WsMessageType = header.opcode === 0x8 ? 'close' : header.opcode === 0x9 ? 'ping' : 'pong';
      let closeCode: number | null = null;
      let closeReason: string | null = null;
      if (type === 'close' && payload.length > 0) {
        if (payload.length === 1) {
          this.fail(out, 'BAD_CLOSE_PAYLOAD', 'close frame body of one byte (a status code takes two)');
          return;
        }
        closeCode = payload.readUInt16BE(0);
        closeReason = utf8.decode(payload.subarray(2));
      }
      const kept = payload.length > this.limit ? payload.subarray(0, this.limit) : payload;
      out.push({ kind: 'message', message: { type, size: payload.length, payload: kept, truncated: payload.length > kept.length, compressed: false, frames: 1, closeCode, closeReason } });
      return;
    }
    const msg = this.message!;
    msg.frames++;
    if (!header.fin) return;
    this.message = null;
    if (msg.bytes) {
      const { payload, size, truncated } = msg.bytes.finish();
      out.push({ kind: 'message', message: { type: msg.type, size, payload, truncated, compressed: false, frames: msg.frames, closeCode: null, closeReason: null } });
    } else {
      out.push({ kind: 'message', message: { type: msg.type, size: msg.compressedSize, payload: EMPTY, truncated: false, compressed: true, frames: msg.frames, closeCode: null, closeReason: null } });
    }
  }
}

function unmaskCopy(src: Buffer, mask: Buffer, offset: number): Buffer {
  const out = Buffer.allocUnsafe(src.length);
  copyBytes(out, 0, src, 0, src.length, mask, offset);
  return out;
}

// --- permessage-deflate negotiation (RFC 7692 §7) ---------------------------------------------

/** The permessage-deflate parameters an opening handshake agreed on (RFC 7692 §7.1). */
export interface PerMessageDeflateParams {
  /** The server resets its compression context after each message (§7.1.1.1). */
  serverNoContextTakeover: boolean;
  /** The client resets its compression context after each message (§7.1.1.2). */
  clientNoContextTakeover: boolean;
  /** LZ77 window of the server's compressor, 8..15. @default 15 */
  serverMaxWindowBits: number;
  /** LZ77 window of the client's compressor, 8..15. @default 15 */
  clientMaxWindowBits: number;
}

export type WsExtensionsAgreed =
  /** No extension: RSV bits must stay clear. */
  | { kind: 'none' }
  | { kind: 'permessage-deflate'; params: PerMessageDeflateParams }
  /** Something we cannot follow (another extension, or a malformed parameter). */
  | { kind: 'unsupported'; detail: string };

/**
 * What the server's `Sec-WebSocket-Extensions` response values agreed on (RFC 6455 §9.1 syntax).
 * The response decides: the client offers, the server picks (RFC 7692 §5).
 */
export function agreedExtensions(values: readonly string[]): WsExtensionsAgreed {
  const extensions = splitOutsideQuotes(values.join(','), ',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  if (extensions.length === 0) return { kind: 'none' };
  if (extensions.length > 1) return { kind: 'unsupported', detail: `more than one extension agreed: ${extensions.join(', ')}` };
  const [name = '', ...rawParams] = splitOutsideQuotes(extensions[0]!, ';').map((p) => p.trim());
  if (name.toLowerCase() !== 'permessage-deflate') return { kind: 'unsupported', detail: `extension ${JSON.stringify(name)}` };
  const params: PerMessageDeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
  const seen = new Set<string>();
  for (const raw of rawParams) {
    if (raw === '') continue;
    const eq = raw.indexOf('=');
    const key = (eq < 0 ? raw : raw.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? null : unquote(raw.slice(eq + 1).trim());
    // §7.1: each parameter at most once.
    if (seen.has(key)) return { kind: 'unsupported', detail: `permessage-deflate parameter ${key} repeated` };
    seen.add(key);
    switch (key) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (value !== null) return { kind: 'unsupported', detail: `${key} takes no value` };
        if (key === 'server_no_context_takeover') params.serverNoContextTakeover = true;
        else params.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits':
      case 'client_max_window_bits': {
        // §7.1.2.2 wants a value in a response; without one the window is not limited.
        const bits = value === null ? 15 : /^[1-9][0-9]?$/.test(value) ? Number(value) : NaN;
        if (!(bits >= 8 && bits <= 15)) return { kind: 'unsupported', detail: `${key}=${value ?? ''} is not 8..15` };
        if (key === 'server_max_window_bits') params.serverMaxWindowBits = bits;
        else params.clientMaxWindowBits = bits;
        break;
      }
      default:
        return { kind: 'unsupported', detail: `unknown permessage-deflate parameter ${key}` };
    }
  }
  return { kind: 'permessage-deflate', params };
}

/** The 4 bytes a sender removed from the end of each compressed message (RFC 7692 §7.2.2). */
export const DEFLATE_MESSAGE_TAIL: Buffer = Buffer.from([0x00, 0x00, 0xff, 0xff]);

function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v;
}
