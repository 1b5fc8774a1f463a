import type { Flow } from '../proxy/core/flow.js';
import { CACHE_TAGS } from '../proxy/rules/cache/cache-addon.js';

/**
 * What the metrics count about a finished flow, as plain functions over the flow (tested without
 * sockets). Label values come from small fixed sets so that no client can grow the number of time
 * series: an unknown method is `OTHER`, an odd status is `other`.
 */

/** Methods kept as their own label value (RFC 9110 §9.3, plus PATCH, RFC 5789). */
export const METHOD_LABELS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'OTHER'] as const;

const METHOD_INDEX: ReadonlyMap<string, number> = new Map(METHOD_LABELS.map((m, i) => [m, i]));
const OTHER_METHOD = METHOD_LABELS.indexOf('OTHER');

/** Index into METHOD_LABELS. Methods are case-sensitive (RFC 9110 §9.1): `get` is `OTHER`. */
export function methodIndex(method: string): number {
  return METHOD_INDEX.get(method) ?? OTHER_METHOD;
}

/** `none` when the client got no response at all (aborted, dropped by a rule). */
export const STATUS_CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx', 'other'] as const;

/** Index into STATUS_CLASSES for a response status (or its absence). */
export function statusClassIndex(status: number | undefined): number {
  if (status === undefined) return 0;
  const hundreds = Math.floor(status / 100);
  return hundreds >= 1 && hundreds <= 5 ? hundreds : STATUS_CLASSES.length - 1;
}

/** What the response cache did for a request; `miss` covers both kinds of miss (see cacheOutcome). */
export type CacheOutcome = 'hit' | 'stale' | 'revalidated' | 'miss';
export const CACHE_OUTCOMES: readonly CacheOutcome[] = ['hit', 'stale', 'revalidated', 'miss'];

/**
 * The cache's part in a finished flow, or null when the cache had no say in it.
 *
 * Hits, stale answers, revalidations and `only-if-cached` misses carry a `cache:*` tag. A plain
 * miss carries none (the cache addon only tags what it answered), so it is recognised here: the
 * cache was on (`cacheActive`, the same "on and not bypassed" test the addon makes), the request
 * was a GET or HEAD without `Range` (the only ones it looks up), and it went to the origin.
 */
export function cacheOutcome(flow: Flow, cacheActive: boolean): CacheOutcome | null {
  for (const tag of flow.tags) {
    switch (tag) {
      case CACHE_TAGS.hit:
        return 'hit';
      case CACHE_TAGS.stale:
        return 'stale';
      case CACHE_TAGS.revalidated:
        return 'revalidated';
      case CACHE_TAGS.miss:
        return 'miss';
      default:
        break;
    }
  }
  if (!cacheActive || flow.kind !== 'http' || flow.timings.upstreamSent === null) return null;
  const method = flow.request.method;
  if (method !== 'GET' && method !== 'HEAD') return null;
  for (const [name] of flow.request.headers) if (name.length === 5 && name.toLowerCase() === 'range') return null;
  return 'miss';
}

/** Tags the proxy's own refusals put on flows (src/proxy/rules: block.ts, auth.ts, rate-limit.ts). */
export const REFUSAL_TAGS = {
  /** A block rule answered (403 page) or dropped the connection. */
  blocked: 'blocked',
  /** Proxy authentication missing or wrong: 407. */
  authFailed: 'auth-required',
  /** A rate limit's bucket was empty: 429. */
  rateLimited: 'rate-limited',
} as const;
