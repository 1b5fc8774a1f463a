/**
 * Validation (RFC 9111 §4.3, §4.4): the conditional request that revalidates a stored response,
 * answering a client's own conditional from the cache, deciding whether a 304 (or a HEAD 200)
 * refers to a stored response, merging its fields in, and which URLs an unsafe request invalidates.
 */
import type { HeaderPairs } from '../../core/flow.js';
import { connectionTokens, HOP_BY_HOP } from '../../core/headers.js';
import { fieldValues } from './cache-control.js';
import type { ResponseHead } from './freshness.js';
import { parseHttpDate } from './http-date.js';

/** Methods that are safe (RFC 9110 §9.2.1); a success to any other invalidates (§4.4). */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Request fields that make a request conditional (RFC 9110 §13.1). */
const CONDITIONAL_FIELDS = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range'] as const;

/**
 * Fields a 304 never replaces in a stored response (§3.2): the framing and coding of the stored
 * body (`Content-Length` is named by §3.2; the stored body depends on the others) and the
 * hop-by-hop ones (§3.1). `Age` is handled on its own (see mergeNotModified).
 */
const NOT_UPDATED: ReadonlySet<string> = new Set(['content-length', 'content-encoding', 'content-range', 'transfer-encoding', 'age']);

/** The validators of a stored response. */
export interface Validators {
  /** The `ETag`, as sent (`"abc"` or `W/"abc"`). */
  etag: string | null;
  /** The `Last-Modified`, as sent. */
  lastModified: string | null;
}

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase());
}

/** Does the request carry conditional fields of its own? */
export function hasConditional(headers: HeaderPairs): boolean {
  return CONDITIONAL_FIELDS.some((f) => fieldValues(headers, f).length > 0);
}

/** Does it carry preconditions a cache must not evaluate (`If-Match`, `If-Unmodified-Since`, `If-Range`; §4.3.2)? */
export function hasOriginPrecondition(headers: HeaderPairs): boolean {
  return ['if-match', 'if-unmodified-since', 'if-range'].some((f) => fieldValues(headers, f).length > 0);
}

export function validatorsOf(headers: HeaderPairs): Validators {
  const etag = fieldValues(headers, 'etag')[0]?.trim() || null;
  const lastModified = fieldValues(headers, 'last-modified')[0]?.trim() || null;
  return { etag, lastModified };
}

/** The fields that revalidate a stored response (§4.3.1): `If-None-Match`, `If-Modified-Since`. */
export function conditionalFor(stored: HeaderPairs): HeaderPairs {
  const v = validatorsOf(stored);
  const out: HeaderPairs = [];
  if (v.etag) out.push(['If-None-Match', v.etag]);
  if (v.lastModified) out.push(['If-Modified-Since', v.lastModified]);
  return out;
}

/** Weak comparison of two entity tags (RFC 9110 §8.8.3.2): equal once `W/` is dropped. */
export function weakMatch(a: string, b: string): boolean {
  const opaque = (t: string) => t.trim().replace(/^W\//, '');
  return opaque(a) === opaque(b);
}

/** The entity tags of an `If-None-Match` (`*` stays `*`). Tolerates commas inside a tag. */
export function entityTags(value: string): string[] | '*' {
  if (value.trim() === '*') return '*';
  return value.match(/(?:W\/)?"[^"]*"|[^\s,]+/g) ?? [];
}

/**
 * Would a client's own conditional GET/HEAD be answered 304 by this stored response (§4.3.2 with
 * RFC 9110 §13.2.2 precedence)? `If-None-Match` wins over `If-Modified-Since`; the latter is
 * compared with `Last-Modified`, or `Date` when there is none.
 */
export function clientNotModified(requestHeaders: HeaderPairs, stored: ResponseHead, reference: number): boolean {
  const inm = fieldValues(requestHeaders, 'if-none-match');
  if (inm.length > 0) {
    const etag = validatorsOf(stored.headers).etag;
    for (const value of inm) {
      const tags = entityTags(value);
      if (tags === '*') return true;
      if (etag && tags.some((t) => weakMatch(t, etag))) return true;
    }
    return false;
  }
  const ims = fieldValues(requestHeaders, 'if-modified-since');
  if (ims.length !== 1) return false;
  const since = parseHttpDate(ims[0], reference);
  const stamp = fieldValues(stored.headers, 'last-modified')[0] ?? fieldValues(stored.headers, 'date')[0];
  const modified = parseHttpDate(stamp, reference);
  return since !== null && modified !== null && modified <= since;
}

/**
 * The fields of a 304 made from a stored response (RFC 9110 §15.4.5): those a 200 would carry
 * that guide caches, plus `Last-Modified` when there is no `ETag`, plus `Content-Length` (allowed
 * there when equal to the 200's; it keeps the exchange from adding `Content-Length: 0`).
 */
export function notModifiedHeaders(stored: HeaderPairs): HeaderPairs {
  const keep = new Set(['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'content-length']);
  if (validatorsOf(stored).etag === null) keep.add('last-modified');
  return stored.filter(([k]) => keep.has(k.toLowerCase()));
}

/**
 * Does a 304 answering a revalidation refer to the stored response (§4.3.4)? Its `ETag`, if any,
 * must match the stored one (weakly); failing that its `Last-Modified`, if any. A 304 without any
 * validator refers to it too: the request carried exactly this entry's validators.
 * `strict` (for a 304 to the client's own conditional) demands a matching validator.
 */
export function notModifiedRefersTo(stored: HeaderPairs, incoming: HeaderPairs, strict: boolean): boolean {
  const mine = validatorsOf(stored);
  const theirs = validatorsOf(incoming);
  if (theirs.etag !== null) return mine.etag !== null && weakMatch(mine.etag, theirs.etag);
  if (theirs.lastModified !== null) return mine.lastModified === theirs.lastModified;
  return !strict;
}

/**
 * Does a 200 to a HEAD refer to the stored GET response (§4.3.5)? Every validator both carry
 * (`ETag`, `Last-Modified`, `Content-Length`) must be equal, and there must be at least one;
 * otherwise the stored response should be invalidated.
 */
export function headRefersTo(stored: HeaderPairs, incoming: HeaderPairs): boolean {
  let compared = 0;
  for (const name of ['etag', 'last-modified', 'content-length']) {
    const a = fieldValues(stored, name)[0]?.trim();
    const b = fieldValues(incoming, name)[0]?.trim();
    if (a === undefined || b === undefined) continue;
    compared++;
    if (name === 'etag' ? !weakMatch(a, b) : a !== b) return false;
  }
  return compared > 0;
}

/**
 * Freshen stored fields with those of a 304 (or HEAD 200): every field the new response carries
 * replaces all lines of that name (§3.2, §4.3.4), in place of the first old one, except the ones
 * in NOT_UPDATED and hop-by-hop ones. `Age` always goes: it described the old response, and the
 * entry's clock readings are reset with this one. A missing `Date` is supplied as `dateNow`.
 */
export function mergeNotModified(stored: HeaderPairs, incoming: HeaderPairs, dateNow: string): HeaderPairs {
  const hop = connectionTokens(incoming);
  const updates = new Map<string, HeaderPairs>();
  for (const pair of incoming) {
    const lower = pair[0].toLowerCase();
    if (NOT_UPDATED.has(lower) || HOP_BY_HOP.has(lower) || hop.has(lower)) continue;
    const list = updates.get(lower);
    if (list) list.push([pair[0], pair[1]]);
    else updates.set(lower, [[pair[0], pair[1]]]);
  }
  if (!updates.has('date')) updates.set('date', [['Date', dateNow]]);
  const out: HeaderPairs = [];
  const placed = new Set<string>();
  for (const pair of stored) {
    const lower = pair[0].toLowerCase();
    if (lower === 'age') continue;
    const replacement = updates.get(lower);
    if (!replacement) out.push(pair);
    else if (!placed.has(lower)) {
      out.push(...replacement);
      placed.add(lower);
    }
  }
  for (const [lower, lines] of updates) if (!placed.has(lower)) out.push(...lines);
  return out;
}

/**
 * The URLs to invalidate after a response to a request (§4.4): for an unsafe method and a
 * non-error status (2xx, 3xx), the target URL and the `Location` and `Content-Location` URLs
 * that share its origin (other origins must not be invalidated).
 */
export function invalidationTargets(method: string, status: number, targetUrl: string, responseHeaders: HeaderPairs): string[] {
  if (isSafeMethod(method) || status < 200 || status >= 400) return [];
  const out = [targetUrl];
  let origin: string;
  try {
    origin = new URL(targetUrl).origin;
  } catch {
    return out; // a target we cannot parse has no same-origin relatives
  }
  for (const name of ['location', 'content-location']) {
    const value = fieldValues(responseHeaders, name)[0];
    if (value === undefined) continue;
    try {
      const url = new URL(value.trim(), targetUrl);
      if (url.origin === origin) {
        url.hash = '';
        const href = url.href;
        if (!out.includes(href)) out.push(href);
      }
    } catch {
      // An unparsable Location invalidates nothing more; the target itself is done.
    }
  }
  return out;
}
