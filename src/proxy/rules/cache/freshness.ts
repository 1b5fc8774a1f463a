/**
 * The decisions of a PRIVATE cache (RFC 9111) as pure functions over headers and explicit times:
 * may this response be stored (§3), how long is it fresh (§4.2.1, §4.2.2), how old is it
 * (§4.2.3), and may it be reused for this request as it is, stale, or only after validation
 * (§4, §4.2.4, §5.2). Times are epoch milliseconds; ages and lifetimes are seconds.
 */
import type { HeaderPairs } from '../../core/flow.js';
import { cacheControlOf, deltaSeconds, fieldValues, parseDeltaSeconds, type Directives } from './cache-control.js';
import { parseHttpDate } from './http-date.js';
import { varyNames } from './vary.js';

/** The parts of a request the decisions read. */
export interface RequestHead {
  /** Request method, any case. */
  method: string;
  /** Request fields as the client sent them. */
  headers: HeaderPairs;
}

/** The parts of a response the decisions read. */
export interface ResponseHead {
  /** Status code. */
  status: number;
  /** Response fields. */
  headers: HeaderPairs;
}

/** A response with the two clock readings of §4.2.3. */
export interface TimedResponse extends ResponseHead {
  /** When the request that led to this response was sent (`request_time`), epoch ms. */
  requestTime: number;
  /** When the response was received (`response_time`), epoch ms. */
  responseTime: number;
}

/** Status codes defined as heuristically cacheable (RFC 9110 §15.1). */
export const HEURISTICALLY_CACHEABLE: ReadonlySet<number> = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]);

/** Final status codes whose caching requirements we know (for `must-understand`, §5.2.2.3). */
const UNDERSTOOD: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501]);

/** Heuristic freshness is at most this (a common cap, and the one the issue asks for). */
export const MAX_HEURISTIC_SECONDS = 86_400;

export type NotStorableReason =
  | 'method' // only GET responses are stored
  | 'range' // ranged request: we neither store nor combine partial content (§3.3, §3.4 are optional)
  | 'status' // 1xx, 206, 304, or an unknown status under must-understand
  | 'no-store' // no-store in the request (§5.2.1.5) or the response (§5.2.2.5)
  | 'vary-star' // `Vary: *` can never match (§4.1), storing it would only waste room
  | 'not-cacheable'; // no explicit freshness, no public/private and not heuristically cacheable (§3)

export type Storability = { storable: true } | { storable: false; reason: NotStorableReason };

/**
 * May a private cache store this response (RFC 9111 §3)? Differences from a shared cache:
 * `private` makes a response storable rather than not (§5.2.2.7), `s-maxage` is ignored
 * (§5.2.2.10: it applies to shared caches only) and `Authorization` does not prevent storing
 * (§3.5 binds shared caches only; see IMPLICIT_VARY for how such entries are kept apart).
 */
export function storability(req: RequestHead, res: ResponseHead): Storability {
  if (req.method.toUpperCase() !== 'GET') return { storable: false, reason: 'method' };
  if (fieldValues(req.headers, 'range').length > 0) return { storable: false, reason: 'range' };
  const cc = cacheControlOf(res.headers);
  if (res.status < 200 || res.status === 206 || res.status === 304) return { storable: false, reason: 'status' };
  // must-understand: store only a status we understand, and then no-store is to be ignored (§5.2.2.3).
  const mustUnderstand = cc.has('must-understand');
  if (mustUnderstand && !UNDERSTOOD.has(res.status)) return { storable: false, reason: 'status' };
  if (cacheControlOf(req.headers).has('no-store')) return { storable: false, reason: 'no-store' };
  if (cc.has('no-store') && !mustUnderstand) return { storable: false, reason: 'no-store' };
  if (varyNames(res.headers) === '*') return { storable: false, reason: 'vary-star' };
  const explicit =
    cc.has('public') || cc.has('private') || cc.has('max-age') || fieldValues(res.headers, 'expires').length > 0;
  if (!explicit && !HEURISTICALLY_CACHEABLE.has(res.status)) return { storable: false, reason: 'not-cacheable' };
  return { storable: true };
}

/** Where a freshness lifetime came from. */
export type LifetimeSource = 'max-age' | 'expires' | 'heuristic' | 'none' | 'invalid';

export interface Lifetime {
  seconds: number;
  source: LifetimeSource;
}

/**
 * The freshness lifetime (§4.2.1): `max-age`, else `Expires` − `Date`, else a heuristic (§4.2.2)
 * of 10% of the time since `Last-Modified`, at most one day, for heuristically cacheable statuses
 * and responses marked `public`/`private`. `s-maxage` is ignored (§5.2.2.10). An invalid or
 * conflicting `max-age` or `Expires` gives 0: the response is stale (§4.2.1, §5.3).
 */
export function freshnessLifetime(res: TimedResponse): Lifetime {
  const cc = cacheControlOf(res.headers);
  const maxAge = deltaSeconds(cc, 'max-age');
  if (typeof maxAge === 'number') return { seconds: maxAge, source: 'max-age' };
  if (maxAge !== 'absent') return { seconds: 0, source: 'invalid' };
  const expires = fieldValues(res.headers, 'expires');
  if (expires.length > 0) {
    const parsed = expires.map((v) => parseHttpDate(v, res.responseTime));
    const first = parsed[0] ?? null;
    if (first === null || parsed.some((t) => t !== first)) return { seconds: 0, source: 'invalid' };
    return { seconds: Math.max(0, (first - dateValue(res)) / 1000), source: 'expires' };
  }
  if (HEURISTICALLY_CACHEABLE.has(res.status) || cc.has('public') || cc.has('private')) {
    const lastModified = singleDate(res.headers, 'last-modified', res.responseTime);
    const date = dateValue(res);
    if (lastModified !== null && lastModified < date) {
      return { seconds: Math.min(MAX_HEURISTIC_SECONDS, (date - lastModified) / 10_000), source: 'heuristic' };
    }
  }
  return { seconds: 0, source: 'none' };
}

/**
 * `date_value` of §4.2.3: the `Date` field, or the response time when it is missing or invalid
 * (a recipient with a clock records its own, RFC 9110 §6.6.1).
 */
export function dateValue(res: TimedResponse): number {
  return singleDate(res.headers, 'date', res.responseTime) ?? res.responseTime;
}

/**
 * The current age in seconds (§4.2.3):
 * `max(max(0, response_time − date_value), age_value + response_time − request_time) + now − response_time`.
 * An `Age` that is not a single non-negative integer is ignored (§5.1).
 */
export function currentAge(res: TimedResponse, now: number): number {
  const ages = fieldValues(res.headers, 'age');
  const ageValue = ages.length === 1 ? (parseDeltaSeconds(ages[0]!) ?? 0) : 0;
  const apparentAge = Math.max(0, res.responseTime - dateValue(res)) / 1000;
  const responseDelay = Math.max(0, res.responseTime - res.requestTime) / 1000;
  const correctedInitialAge = Math.max(apparentAge, ageValue + responseDelay);
  const residentTime = Math.max(0, now - res.responseTime) / 1000;
  return correctedInitialAge + residentTime;
}

/** What a request asks of caches (§5.2.1), with `Pragma` (§5.4) folded in. */
export interface RequestDirectives {
  /**
   * Validate before reuse: `no-cache` (§5.2.1.4), `Pragma: no-cache` without any `Cache-Control`
   * (§5.4), or `max-age=0`, which clients send to mean "revalidate" (a reload).
   */
  noCache: boolean;
  /** `no-store`: do not store the response (§5.2.1.5). */
  noStore: boolean;
  /** `max-age=N`: accept no response older than N seconds (§5.2.1.1); null when absent. */
  maxAge: number | null;
  /** `max-stale[=N]`: accept a response stale by up to N seconds, Infinity without N (§5.2.1.2). */
  maxStale: number | null;
  /** `min-fresh=N`: want a response fresh for at least N more seconds (§5.2.1.3). */
  minFresh: number | null;
  /** `only-if-cached`: answer from the cache or with 504 (§5.2.1.7). */
  onlyIfCached: boolean;
}

/**
 * Read the request directives. Unusable values err on the side of going to the origin: an invalid
 * `max-age` counts as `max-age=0`, an invalid `max-stale` or `min-fresh` is ignored.
 */
export function requestDirectives(headers: HeaderPairs): RequestDirectives {
  const ccLines = fieldValues(headers, 'cache-control');
  const cc = cacheControlOf(headers);
  const pragmaNoCache =
    ccLines.length === 0 && fieldValues(headers, 'pragma').some((v) => v.split(',').some((t) => t.trim().toLowerCase() === 'no-cache'));
  const maxAgeRaw = deltaSeconds(cc, 'max-age');
  const maxAge = maxAgeRaw === 'absent' ? null : typeof maxAgeRaw === 'number' ? maxAgeRaw : 0;
  const maxStaleRaw = deltaSeconds(cc, 'max-stale');
  const minFreshRaw = deltaSeconds(cc, 'min-fresh');
  return {
    noCache: cc.has('no-cache') || pragmaNoCache || maxAge === 0,
    noStore: cc.has('no-store'),
    maxAge,
    maxStale: maxStaleRaw === 'bare' ? Infinity : typeof maxStaleRaw === 'number' ? maxStaleRaw : null,
    minFresh: typeof minFreshRaw === 'number' ? minFreshRaw : null,
    onlyIfCached: cc.has('only-if-cached'),
  };
}

export type RevalidateReason =
  | 'response-no-cache' // §5.2.2.4 (a qualified `no-cache="field"` is treated as unqualified)
  | 'request-no-cache' // §5.2.1.4, Pragma, max-age=0
  | 'request-max-age' // older than the request's max-age (§5.2.1.1)
  | 'min-fresh' // fresh, but not for as long as the request wants (§5.2.1.3)
  | 'must-revalidate' // stale and the response forbids serving it so (§5.2.2.2)
  | 'stale'; // stale and the request does not accept that (§4.2.4)

/** How a stored response may satisfy a request; `age` is its current age in seconds. */
export type Reuse =
  | { use: 'fresh'; age: number }
  | { use: 'stale'; age: number }
  | { use: 'revalidate'; age: number; reason: RevalidateReason };

/** May a stored response be reused for a request with these directives, at `now`? (§4) */
export function reuseDecision(stored: TimedResponse, req: RequestDirectives, now: number): Reuse {
  const age = currentAge(stored, now);
  const cc = cacheControlOf(stored.headers);
  if (cc.has('no-cache')) return { use: 'revalidate', age, reason: 'response-no-cache' };
  if (req.noCache) return { use: 'revalidate', age, reason: 'request-no-cache' };
  if (req.maxAge !== null && age > req.maxAge) return { use: 'revalidate', age, reason: 'request-max-age' };
  const lifetime = freshnessLifetime(stored).seconds;
  if (lifetime > age) {
    if (req.minFresh !== null && lifetime - age < req.minFresh) return { use: 'revalidate', age, reason: 'min-fresh' };
    return { use: 'fresh', age };
  }
  if (cc.has('must-revalidate')) return { use: 'revalidate', age, reason: 'must-revalidate' };
  if (req.maxStale !== null && age - lifetime <= req.maxStale) return { use: 'stale', age };
  return { use: 'revalidate', age, reason: 'stale' };
}

/**
 * May a stored response stand in when the origin cannot be reached (§4.2.4: a disconnected cache
 * may serve stale)? Not when the response forbids it (`no-cache`, `must-revalidate`, §5.2.2.2)
 * nor when the client asked for validation (`no-cache`): the developer wants to see the failure.
 */
export function staleOnErrorAllowed(stored: ResponseHead, req: RequestDirectives): boolean {
  const cc: Directives = cacheControlOf(stored.headers);
  return !cc.has('no-cache') && !cc.has('must-revalidate') && !req.noCache;
}

/** The single value of a date field, or null when it is missing, repeated or invalid. */
function singleDate(headers: HeaderPairs, name: string, reference: number): number | null {
  const values = fieldValues(headers, name);
  return values.length === 1 ? parseHttpDate(values[0], reference) : null;
}
