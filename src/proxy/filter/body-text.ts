import * as zlib from 'node:zlib';
import type { BodyCapture, HeaderPairs, WebSocketMessage } from '../core/flow.js';
import { findHeader } from './flow-text.js';

/**
 * Body text for `~b`, `~bq`, `~bs`: the captured bytes with their `content-encoding` undone, read as
 * UTF-8. Decoding is synchronous because the captured bytes are bounded (DESIGN.md §4) and a
 * predicate must answer at once; the text is memoized per BodyCapture so a filter run over many
 * flows (or many filters over one flow) decodes each body once.
 */

/**
 * Decoded output above this is not kept: the capture limit bounds the input, not what it inflates
 * to, and a compression bomb must not take the TUI down. Such a body is matched undecoded.
 */
export const MAX_DECODED_BYTES = 64 * 1024 * 1024;

interface BodyEntry {
  bytes: Buffer;
  length: number;
  encoding: string;
  text: string;
}

const bodies = new WeakMap<BodyCapture, BodyEntry>();

/**
 * The decoded text of a message body, or null when no bytes were captured (an empty body matches
 * nothing, as in mitmproxy). `headers` are the message's own headers (for `content-encoding`).
 */
export function bodyText(body: BodyCapture, headers: HeaderPairs): string | null {
  const bytes = body.bytes;
  if (bytes === null || bytes.length === 0) return null;
  const encoding = findHeader(headers, 'content-encoding') ?? '';
  const e = bodies.get(body);
  // Revalidate: while a body streams its capture object may get a longer `bytes`.
  if (e !== undefined && e.bytes === bytes && e.length === bytes.length && e.encoding === encoding) return e.text;
  const text = decodeBody(bytes, encoding).toString('utf8');
  bodies.set(body, { bytes, length: bytes.length, encoding, text });
  return text;
}

interface MessageEntry {
  payload: Buffer;
  text: string;
}

const messages = new WeakMap<WebSocketMessage, MessageEntry>();

/** A WebSocket message payload as UTF-8 text, memoized per message. */
export function messageText(message: WebSocketMessage): string {
  const e = messages.get(message);
  if (e !== undefined && e.payload === message.payload) return e.text;
  const text = message.payload.toString('utf8');
  messages.set(message, { payload: message.payload, text });
  return text;
}

/**
 * Undo `content-encoding` (RFC 9110 §8.4: codings are listed in the order applied, so undo them
 * from the last). Any coding we cannot undo, or a decoding failure, leaves the bytes as they are:
 * a filter never throws over a strange body.
 */
export function decodeBody(bytes: Buffer, contentEncoding: string): Buffer {
  if (contentEncoding === '') return bytes;
  const codings = contentEncoding.split(',');
  let out = bytes;
  for (let i = codings.length - 1; i >= 0; i--) {
    const coding = codings[i]!.trim().toLowerCase();
    if (coding === '' || coding === 'identity') continue;
    const decoded = decodeOne(out, coding);
    if (decoded === null) return bytes;
    out = decoded;
  }
  return out;
}

/*
 * The flush modes make a truncated capture (only the head of a long body was kept) decode as far
 * as it goes instead of failing with "unexpected end of file".
 */
const ZLIB_OPTIONS: zlib.ZlibOptions = {
  finishFlush: zlib.constants.Z_SYNC_FLUSH,
  maxOutputLength: MAX_DECODED_BYTES,
};
const BROTLI_OPTIONS: zlib.BrotliOptions = {
  finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
  maxOutputLength: MAX_DECODED_BYTES,
};

function decodeOne(bytes: Buffer, coding: string): Buffer | null {
  try {
    switch (coding) {
      case 'gzip':
      case 'x-gzip':
        return zlib.gunzipSync(bytes, ZLIB_OPTIONS);
      case 'br':
        return zlib.brotliDecompressSync(bytes, BROTLI_OPTIONS);
      case 'deflate':
        return inflateEither(bytes);
      default:
        return null; // e.g. zstd or compress: not available in Node 20's zlib
    }
  } catch {
    // Corrupt data or output above MAX_DECODED_BYTES: the caller matches the raw bytes.
    return null;
  }
}

/** `deflate` should be zlib-wrapped (RFC 9110 §8.4.1.2), but some servers send raw deflate. */
function inflateEither(bytes: Buffer): Buffer {
  try {
    return zlib.inflateSync(bytes, ZLIB_OPTIONS);
  } catch {
    // Not zlib-wrapped: try raw deflate below; its own failure reaches decodeOne's catch.
    return zlib.inflateRawSync(bytes, ZLIB_OPTIONS);
  }
}
