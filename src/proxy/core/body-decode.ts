import * as zlib from 'node:zlib';
import type { BodyCapture, HeaderPairs } from './flow.js';

/** A captured body with its content-coding removed, for display and search. */
export interface DecodedBody {
  /** The decoded bytes; the captured bytes unchanged when nothing was (or could be) decoded. */
  bytes: Buffer;
  /** The `Content-Encoding` that was removed (e.g. `gzip`, `gzip, br`); null when none was. */
  encoding: string | null;
  /** Why decoding failed or stopped short (the bytes are then the captured ones); else null. */
  error: string | null;
}

/**
 * Decoded output is capped: a small compressed capture can expand to gigabytes (a "zip bomb"), and
 * this only feeds a viewer. @default 64 MiB
 */
export const MAX_DECODED_BYTES = 64 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * Undo the `Content-Encoding` of a captured body (RFC 9110 §8.4: codings are listed in the order
 * they were applied, so they are removed last first). Never throws: a failure is reported in
 * `error` and the captured bytes are returned as they are.
 *
 * A truncated capture holds only the head of the stream; it is decoded with a sync flush so the
 * part that is there still shows, instead of failing with "unexpected end of file".
 */
export function decodeBody(body: BodyCapture, headers: HeaderPairs, maxBytes = MAX_DECODED_BYTES): DecodedBody {
  const raw = body.bytes ?? EMPTY;
  const codings = contentCodings(headers);
  if (codings.length === 0) return { bytes: raw, encoding: null, error: null };
  if (raw.length === 0) return { bytes: raw, encoding: codings.join(', '), error: null };
  let bytes = raw;
  for (let i = codings.length - 1; i >= 0; i--) {
    const coding = codings[i]!;
    const step = decodeOne(bytes, coding, maxBytes, body.truncated || body.state !== 'complete');
    if (!step.ok) return { bytes: raw, encoding: null, error: step.error };
    bytes = step.bytes;
  }
  return { bytes, encoding: codings.join(', '), error: null };
}

/** The codings named by every `Content-Encoding` field, lowercased, without `identity`. */
export function contentCodings(headers: HeaderPairs): string[] {
  const out: string[] = [];
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'content-encoding') continue;
    for (const part of value.split(',')) {
      const coding = part.trim().toLowerCase();
      if (coding && coding !== 'identity') out.push(coding);
    }
  }
  return out;
}

type Step = { ok: true; bytes: Buffer } | { ok: false; error: string };

function decodeOne(input: Buffer, coding: string, maxBytes: number, partial: boolean): Step {
  const flush = partial ? zlib.constants.Z_SYNC_FLUSH : zlib.constants.Z_FINISH;
  try {
    switch (coding) {
      case 'gzip':
      case 'x-gzip':
        return { ok: true, bytes: zlib.gunzipSync(input, { finishFlush: flush, maxOutputLength: maxBytes }) };
      case 'deflate':
        return inflate(input, flush, maxBytes);
      case 'br':
        return {
          ok: true,
          bytes: zlib.brotliDecompressSync(input, {
            finishFlush: partial ? zlib.constants.BROTLI_OPERATION_FLUSH : zlib.constants.BROTLI_OPERATION_FINISH,
            maxOutputLength: maxBytes,
          }),
        };
      default:
        return { ok: false, error: `unsupported content-encoding ${coding}` };
    }
  } catch (err) {
    return { ok: false, error: `cannot decode ${coding}: ${describe(err)}` };
  }
}

/**
 * `deflate` is meant to be zlib-wrapped (RFC 9110 §8.4.1.2), but some servers send a raw DEFLATE
 * stream; browsers accept both, so do we.
 */
function inflate(input: Buffer, flush: number, maxBytes: number): Step {
  try {
    return { ok: true, bytes: zlib.inflateSync(input, { finishFlush: flush, maxOutputLength: maxBytes }) };
  } catch (wrapped) {
    try {
      return { ok: true, bytes: zlib.inflateRawSync(input, { finishFlush: flush, maxOutputLength: maxBytes }) };
    } catch {
      // The raw attempt was a fallback; the zlib-wrapped error describes the failure better.
      return { ok: false, error: `cannot decode deflate: ${describe(wrapped)}` };
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof RangeError) return 'decoded size exceeds the viewer limit';
  return err instanceof Error ? err.message : String(err);
}
