/**
 * Response compression, the last stage of the response path (DESIGN.md §5): when it is on, a
 * response the origin sent uncompressed is gzip- or brotli-encoded on its way to a client that
 * accepts it. The flow, the cache and the session keep the origin's bytes; only the client's copy
 * is encoded.
 *
 * `planCompression` is the whole decision (pure, over headers); `createEncoder` is the stream.
 */
import type { Readable, Transform } from 'node:stream';
import { constants, createBrotliCompress, createGzip } from 'node:zlib';
import { headerValue, type HeaderPairs } from '../core/flow.js';
import { removeHeader } from '../core/headers.js';

/** A content-coding the proxy can apply. */
export type Coding = 'br' | 'gzip';

/** Resolved compression settings (config `compression`, `--compress`). */
export interface CompressionSettings {
  /** Compress at all. @default false */
  enabled: boolean;
  /**
   * Media types worth compressing: exact (`application/json`), a whole tree (`text/*`) or a
   * structured-syntax suffix (`*+json`). `text/event-stream` is never compressed whatever this says.
   * @default DEFAULT_COMPRESSIBLE_TYPES
   */
  types: readonly string[];
  /** Bodies known to be smaller than this are sent as they are (the framing would eat the gain). @default 1024 */
  minBytes: number;
  /** zlib level 1–9; on-the-fly compression wants speed over the last percent. @default 5 */
  gzipLevel: number;
  /** Brotli quality 0–11; 4 is about gzip's speed with a better ratio, 11 is for static files only. @default 4 */
  brotliQuality: number;
}

/**
 * Text-like types: markup, scripts, styles, data formats, SVG, and WebAssembly (its bytecode
 * compresses to about a third). Images, audio, video, fonts in woff/woff2 and archives are
 * compressed already and only cost CPU.
 */
export const DEFAULT_COMPRESSIBLE_TYPES: readonly string[] = [
  'text/*',
  'application/json',
  '*+json',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'application/xml',
  '*+xml',
  'application/x-ndjson',
  'application/graphql',
  'application/wasm',
  'application/manifest+json',
  'image/svg+xml',
  'image/x-icon',
  'font/ttf',
  'font/otf',
];

export const defaultCompression: CompressionSettings = {
  enabled: false,
  types: DEFAULT_COMPRESSIBLE_TYPES,
  minBytes: 1024,
  gzipLevel: 5,
  brotliQuality: 4,
};

/**
 * Server-sent events are a stream of small messages a browser must see as they happen; some
 * intermediaries and EventSource polyfills buffer compressed streams, so they go as they are.
 */
const NEVER: ReadonlySet<string> = new Set(['text/event-stream']);

export interface CompressionInput {
  settings: CompressionSettings;
  /** The client's request method. */
  method: string;
  /** The client's own `Accept-Encoding` (what it can decode), undefined when absent. */
  acceptEncoding: string | undefined;
  status: number;
  /** Response headers as they would be sent (hop-by-hop fields already removed). */
  headers: HeaderPairs;
  /** Body size when known (a whole body, or Content-Length), else null. */
  bodySize: number | null;
}

export interface CompressionPlan {
  /** The coding to apply, or null to send the body as it is. */
  coding: Coding | null;
  /** The headers to send: with a coding, Content-Encoding set, Content-Length gone, ETag weak. */
  headers: HeaderPairs;
}

/**
 * Decide whether and how to compress one response. When the answer depends on the client's
 * Accept-Encoding (the response is eligible), `Vary: Accept-Encoding` is added whichever coding
 * this client gets, so a shared cache never hands one client's representation to another.
 */
export function planCompression(input: CompressionInput): CompressionPlan {
  const { settings, headers } = input;
  const unchanged: CompressionPlan = { coding: null, headers };
  if (!settings.enabled || !eligible(input)) return unchanged;
  const vary = withVary(headers);
  const coding = negotiateCoding(input.acceptEncoding);
  if (coding === null) return { coding: null, headers: vary };
  // An explicit `identity` coding goes too: the body now has exactly one coding.
  const out: HeaderPairs = [...removeHeader(removeHeader(vary, 'content-length'), 'content-encoding'), ['Content-Encoding', coding]];
  return { coding, headers: weakenEtag(out) };
}

/** Everything about the response (not the client) that allows compressing it. */
function eligible(input: CompressionInput): boolean {
  const { headers, status } = input;
  if (input.method === 'HEAD') return false;
  // No body (1xx, 204, 304), or a part of one (206: its Content-Range counts identity bytes).
  if (status < 200 || status === 204 || status === 206 || status === 304) return false;
  if (headerValue(headers, 'content-range') !== undefined) return false;
  const encoding = headerValue(headers, 'content-encoding');
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity' && encoding.trim() !== '') return false;
  // RFC 9111 §5.2.2.6: a proxy must not transform the content of a no-transform response.
  const cacheControl = allValues(headers, 'cache-control');
  if (cacheControl.some((v) => /(^|,)\s*no-transform\s*(,|$)/i.test(v))) return false;
  if (input.bodySize !== null && input.bodySize < input.settings.minBytes) return false;
  return isCompressibleType(headerValue(headers, 'content-type'), input.settings.types);
}

/** True for a Content-Type matching one of `patterns` (see CompressionSettings.types). */
export function isCompressibleType(contentType: string | undefined, patterns: readonly string[]): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (type === '' || NEVER.has(type)) return false;
  return patterns.some((raw) => {
    const p = raw.trim().toLowerCase();
    if (p.startsWith('*+')) return type.endsWith(p.slice(1));
    if (p.endsWith('/*')) return type.startsWith(p.slice(0, -1));
    return type === p;
  });
}

/**
 * The coding to use for a client's Accept-Encoding (RFC 9110 §12.5.3): the acceptable one with
 * the highest q, brotli on a tie (smaller at the same speed); `*` covers codings not named;
 * `x-gzip` is gzip. Null when neither is acceptable, or when the client ranks identity higher.
 */
export function negotiateCoding(acceptEncoding: string | undefined): Coding | null {
  if (acceptEncoding === undefined) return null;
  const q = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [nameRaw, ...params] = part.split(';');
    let name = nameRaw!.trim().toLowerCase();
    if (name === '') continue;
    if (name === 'x-gzip') name = 'gzip';
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) weight = Math.min(1, Math.max(0, Number(m[1]) || 0));
    }
    // A name listed twice keeps its best weight.
    q.set(name, Math.max(q.get(name) ?? 0, weight));
  }
  const star = q.get('*');
  const weightOf = (c: string) => q.get(c) ?? star ?? 0;
  const br = weightOf('br');
  const gzip = weightOf('gzip');
  const best = Math.max(br, gzip);
  if (best <= 0) return null;
  const identity = q.get('identity');
  if (identity !== undefined && identity > best) return null;
  return br >= gzip ? 'br' : 'gzip';
}

/** Add `Accept-Encoding` to Vary: merged into an existing field, never twice, never beside `*`. */
export function withVary(headers: HeaderPairs): HeaderPairs {
  const values = allValues(headers, 'vary');
  const tokens = values.flatMap((v) => v.split(',')).map((t) => t.trim().toLowerCase());
  if (tokens.includes('*') || tokens.includes('accept-encoding')) return headers;
  const at = headers.findIndex(([k]) => k.toLowerCase() === 'vary');
  if (at === -1) return [...headers, ['Vary', 'Accept-Encoding']];
  const out = headers.slice();
  const [name, value] = out[at]!;
  out[at] = [name, value.trim() === '' ? 'Accept-Encoding' : `${value}, Accept-Encoding`];
  return out;
}

/**
 * A strong ETag names exact bytes (RFC 9110 §8.8.1); the encoded body is other bytes, so the tag
 * becomes weak. Range requests and If-Match need strong tags and so no longer match, which is
 * right: they would apply to the origin's bytes.
 */
function weakenEtag(headers: HeaderPairs): HeaderPairs {
  return headers.map(([k, v]) => (k.toLowerCase() === 'etag' && v.trimStart().startsWith('"') ? [k, `W/${v.trimStart()}`] : [k, v]));
}

function allValues(headers: HeaderPairs, name: string): string[] {
  const out: string[] = [];
  for (const [k, v] of headers) if (k.toLowerCase() === name) out.push(v);
  return out;
}

/**
 * Encode `source` (a stream, or a body whole in memory); pipe the result to the client. What a
 * stream delivered is flushed once the event loop has nothing more for it (one flush per burst,
 * not per chunk): a streamed response (long polling, NDJSON, a slow origin) reaches the client as
 * it arrives instead of waiting for the compressor's window to fill. A sync flush ends the current
 * block but keeps the window, so the ratio barely suffers.
 */
export function compress(source: Readable | Buffer, coding: Coding, settings: CompressionSettings, sizeHint: number | null): Transform {
  const encoder =
    coding === 'br'
      ? createBrotliCompress({
          params: {
            [constants.BROTLI_PARAM_QUALITY]: settings.brotliQuality,
            [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
            ...(sizeHint !== null ? { [constants.BROTLI_PARAM_SIZE_HINT]: sizeHint } : {}),
          },
        })
      : createGzip({ level: settings.gzipLevel });
  if (Buffer.isBuffer(source)) {
    encoder.end(source);
    return encoder;
  }
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (encoder.writableEnded || encoder.destroyed) return;
    encoder.flush(coding === 'br' ? constants.BROTLI_OPERATION_FLUSH : constants.Z_SYNC_FLUSH);
  };
  // Registered before pipe(): the flush is queued behind the chunk pipe() writes.
  source.on('data', () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  });
  source.pipe(encoder);
  return encoder;
}
