/**
 * The response cache (issue 6): a private HTTP cache (RFC 9111) as a pipeline rule. Pure: no IO,
 * every clock reading injected.
 */
export { cacheAddon, CACHE_TAGS, formatBytes, type CacheAddonOptions } from './cache-addon.js';
export { cacheKey, entrySize, HttpCache, DEFAULT_CACHE_MAX_BYTES, ENTRY_OVERHEAD_BYTES, type CacheEntry, type CacheStats, type HttpCacheOptions, type NewEntry } from './http-cache.js';
export {
  currentAge,
  dateValue,
  freshnessLifetime,
  HEURISTICALLY_CACHEABLE,
  MAX_HEURISTIC_SECONDS,
  requestDirectives,
  reuseDecision,
  staleOnErrorAllowed,
  storability,
  type Lifetime,
  type LifetimeSource,
  type NotStorableReason,
  type RequestDirectives,
  type RequestHead,
  type ResponseHead,
  type RevalidateReason,
  type Reuse,
  type Storability,
  type TimedResponse,
} from './freshness.js';
export { cacheControlOf, deltaSeconds, parseCacheControl, parseDeltaSeconds, type DeltaSeconds, type Directives } from './cache-control.js';
export { formatHttpDate, parseHttpDate } from './http-date.js';
export { IMPLICIT_VARY, selectingHeaders, varyMatches, varyNames, type SelectingHeaders } from './vary.js';
export {
  clientNotModified,
  conditionalFor,
  entityTags,
  hasOriginPrecondition,
  hasConditional,
  headRefersTo,
  invalidationTargets,
  isSafeMethod,
  mergeNotModified,
  notModifiedHeaders,
  notModifiedRefersTo,
  validatorsOf,
  weakMatch,
} from './validation.js';
