import type { HeaderPairs } from './flow.js';
import { connectionTokens } from './headers.js';
import { intern } from './intern.js';

/**
 * Header translation between HTTP/1.1 and HTTP/2 (RFC 9113 §8.2–8.3), pure. The flow keeps the
 * regular fields as the client sent them (pseudo-headers become method, scheme, authority and
 * path, as mitmproxy does); these functions make each leg's header list from that.
 */

/** Connection-specific fields that must not appear in HTTP/2 (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'host']);

export interface H2RequestHead {
  method: string;
  scheme: string | null;
  authority: string | null;
  path: string;
  /** Regular fields in order, pseudo-headers removed. */
  headers: HeaderPairs;
}

/** Split a received HTTP/2 header list (Node's rawHeaders) into pseudo-headers and fields. */
export function parseH2RequestHead(raw: readonly string[]): H2RequestHead {
  let method = 'GET';
  let scheme: string | null = null;
  let authority: string | null = null;
  let path = '/';
  const headers: HeaderPairs = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.charCodeAt(0) === 58 /* ':' */) {
      if (name === ':method') method = value;
      else if (name === ':scheme') scheme = value;
      else if (name === ':authority') authority = value;
      else if (name === ':path') path = value;
    } else headers.push([name, value]);
  }
  return { method, scheme, authority, path, headers };
}

/**
 * Fields for an HTTP/1.1 request made from an HTTP/2 one: `Host` first (from :authority unless a
 * host field came along), cookie crumbs joined with `; ` (RFC 9113 §8.2.3).
 */
export function h1FieldsFromH2(headers: HeaderPairs, authority: string): HeaderPairs {
  const out: HeaderPairs = [];
  const cookies: string[] = [];
  let hasHost = false;
  for (const pair of headers) {
    const lower = pair[0].toLowerCase();
    if (lower === 'cookie') cookies.push(pair[1]);
    else {
      if (lower === 'host') hasHost = true;
      out.push(pair);
    }
  }
  if (!hasHost) out.unshift(['host', authority]);
  if (cookies.length) out.push(['cookie', cookies.join('; ')]);
  return out;
}

/**
 * A Node http2 header object from regular fields: lowercased, connection-specific fields and
 * every field named in `Connection` dropped, `TE` kept only as `trailers`. Repeated fields become
 * arrays (Node sends each value as its own field).
 */
export function h2FieldsFrom(headers: HeaderPairs): Record<string, string | string[]> {
  return addH2Fields(Object.create(null) as Record<string, string | string[]>, headers);
}

function addH2Fields(out: Record<string, string | string[]>, headers: HeaderPairs): Record<string, string | string[]> {
  const named = connectionTokens(headers);
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (CONNECTION_SPECIFIC.has(lower) || named.has(lower)) continue;
    if (lower === 'te') {
      if (value.trim().toLowerCase() === 'trailers') out['te'] = 'trailers';
      continue;
    }
    if (lower.charCodeAt(0) === 58) continue; // pseudo-headers are set by the caller
    const prev = out[lower];
    out[lower] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** The request header object for an HTTP/2 upstream stream, pseudo-headers included (one object, built once). */
export function h2RequestHeaders(method: string, scheme: string, authority: string, path: string, headers: HeaderPairs): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>;
  out[':method'] = method;
  out[':scheme'] = scheme;
  out[':authority'] = authority;
  out[':path'] = path;
  return addH2Fields(out, headers);
}

/** Response fields from a received HTTP/2 header object (`:status` removed). */
export function pairsFromH2Headers(headers: Record<string, string | string[] | number | undefined>): HeaderPairs {
  const out: HeaderPairs = [];
  for (const k in headers) {
    if (k.charCodeAt(0) === 58) continue;
    const v = headers[k];
    if (v === undefined) continue;
    const name = intern(k);
    if (Array.isArray(v)) for (const x of v) out.push([name, intern(x)]);
    else out.push([name, intern(String(v))]);
  }
  return out;
}
