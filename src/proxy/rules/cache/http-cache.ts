/**
 * The response store: entries keyed by URL (method-agnostic: GET responses are stored, HEAD is
 * answered from them), several variants per URL told apart by `Vary` (RFC 9111 §4.1), bounded in
 * bytes with least-recently-used eviction (DESIGN.md §1.4). No IO, no clock: callers pass times.
 */
import type { FlowRequest, HeaderPairs } from '../../core/flow.js';
import { flowUrl } from '../../core/flow.js';
import { dateValue, type TimedResponse } from './freshness.js';
import { selectingHeaders, varyMatches, varyNames, type SelectingHeaders } from './vary.js';

/** @default 268435456 (256 MiB) */
export const DEFAULT_CACHE_MAX_BYTES = 256 * 1024 * 1024;

/** Bookkeeping an entry costs beyond its URL, fields and body (a rough figure, counted so that many tiny entries are bounded too). */
export const ENTRY_OVERHEAD_BYTES = 256;

export interface HttpCacheOptions {
  /** Upper bound on the bytes held (bodies, fields, URLs and overhead). @default 268435456 (256 MiB) */
  maxBytes?: number;
  /** Largest single entry; bigger responses are not stored. At most `maxBytes`. @default maxBytes / 16 */
  maxEntryBytes?: number;
}

/** A stored response. Its fields change only through the cache (`refresh`). */
export interface CacheEntry extends TimedResponse {
  /** The URL it is stored under (see cacheKey). */
  readonly key: string;
  statusText: string;
  /** Response fields without hop-by-hop ones, `Date` and `Content-Length` supplied when missing. */
  headers: HeaderPairs;
  /** The whole body, as the client got it (content-coding included). */
  readonly body: Buffer;
  /** The request fields this variant was selected by (Vary and implicit ones). */
  selecting: SelectingHeaders;
  /** Bytes counted against the bound. */
  size: number;
}

/** What `put` stores. */
export interface NewEntry extends TimedResponse {
  key: string;
  statusText: string;
  headers: HeaderPairs;
  body: Buffer;
  /** The fields of the request that caused the response (for Vary). */
  requestHeaders: HeaderPairs;
}

export interface CacheStats {
  entries: number;
  bytes: number;
  maxBytes: number;
}

/**
 * The key of a request's target: its absolute URL with the host lowercased and the usual URL
 * normalization (default port dropped, dot segments resolved; RFC 9110 §4.2.3 equivalence).
 */
export function cacheKey(req: Pick<FlowRequest, 'scheme' | 'host' | 'port' | 'path'>): string {
  const raw = flowUrl({ ...req, host: req.host.toLowerCase() });
  try {
    return new URL(raw).href;
  } catch {
    return raw; // not a URL the WHATWG parser takes; still a stable key
  }
}

/** Bytes an entry is counted as. */
export function entrySize(key: string, headers: HeaderPairs, body: Buffer): number {
  let n = ENTRY_OVERHEAD_BYTES + key.length + body.length;
  for (const [k, v] of headers) n += k.length + v.length + 4;
  return n;
}

export class HttpCache {
  readonly maxBytes: number;
  readonly maxEntryBytes: number;
  private readonly variants = new Map<string, CacheEntry[]>();
  /** Every entry, least recently used first (a Set keeps insertion order; re-adding moves to the end). */
  private readonly lru = new Set<CacheEntry>();
  private bytes = 0;

  constructor(opts: HttpCacheOptions = {}) {
    this.maxBytes = Math.max(0, Math.floor(opts.maxBytes ?? DEFAULT_CACHE_MAX_BYTES));
    this.maxEntryBytes = Math.min(this.maxBytes, Math.max(0, Math.floor(opts.maxEntryBytes ?? this.maxBytes / 16)));
  }

  /**
   * The stored variant for a request to `key` whose selecting fields match (§4.1), marked as
   * used. When several match, the most recent by `Date` wins (§4.1).
   */
  lookup(key: string, requestHeaders: HeaderPairs): CacheEntry | undefined {
    let best: CacheEntry | undefined;
    for (const e of this.variants.get(key) ?? []) {
      if (!varyMatches(e.selecting, requestHeaders)) continue;
      if (!best || dateValue(e) > dateValue(best) || (dateValue(e) === dateValue(best) && e.responseTime > best.responseTime)) best = e;
    }
    if (best) this.touch(best);
    return best;
  }

  /**
   * Store a response; the variants it supersedes (those the same request would select) go. Returns
   * null, storing nothing, when it is larger than `maxEntryBytes` or has `Vary: *`. Evicts the
   * least recently used entries until the total fits `maxBytes`.
   */
  put(n: NewEntry): CacheEntry | null {
    const size = entrySize(n.key, n.headers, n.body);
    const names = varyNames(n.headers);
    if (size > this.maxEntryBytes || names === '*') return null;
    for (const old of this.variants.get(n.key) ?? []) if (varyMatches(old.selecting, n.requestHeaders)) this.remove(old);
    const entry: CacheEntry = {
      key: n.key,
      status: n.status,
      statusText: n.statusText,
      headers: n.headers,
      body: n.body,
      requestTime: n.requestTime,
      responseTime: n.responseTime,
      selecting: selectingHeaders(names, n.requestHeaders),
      size,
    };
    const list = this.variants.get(n.key);
    if (list) list.push(entry);
    else this.variants.set(n.key, [entry]);
    this.lru.add(entry);
    this.bytes += size;
    this.evict();
    return entry;
  }

  /**
   * Freshen a stored entry after validation (§4.3.4): new fields, clock readings and selecting
   * fields. False (and nothing changes) when the entry is no longer stored; an entry whose new
   * `Vary` is `*` or which outgrew `maxEntryBytes` is removed.
   */
  refresh(entry: CacheEntry, headers: HeaderPairs, requestTime: number, responseTime: number, requestHeaders: HeaderPairs): boolean {
    if (!this.lru.has(entry)) return false;
    const names = varyNames(headers);
    const size = entrySize(entry.key, headers, entry.body);
    if (names === '*' || size > this.maxEntryBytes) {
      this.remove(entry);
      return false;
    }
    entry.headers = headers;
    entry.requestTime = requestTime;
    entry.responseTime = responseTime;
    entry.selecting = selectingHeaders(names, requestHeaders);
    this.bytes += size - entry.size;
    entry.size = size;
    this.touch(entry);
    this.evict(entry);
    return true;
  }

  has(entry: CacheEntry): boolean {
    return this.lru.has(entry);
  }

  remove(entry: CacheEntry): void {
    if (!this.lru.delete(entry)) return;
    this.bytes -= entry.size;
    const list = this.variants.get(entry.key);
    if (!list) return;
    const rest = list.filter((e) => e !== entry);
    if (rest.length) this.variants.set(entry.key, rest);
    else this.variants.delete(entry.key);
  }

  /** Remove every variant stored under `key`; returns how many went. */
  invalidate(key: string): number {
    const list = this.variants.get(key) ?? [];
    for (const e of [...list]) this.remove(e);
    return list.length;
  }

  stats(): CacheStats {
    return { entries: this.lru.size, bytes: this.bytes, maxBytes: this.maxBytes };
  }

  clear(): void {
    this.variants.clear();
    this.lru.clear();
    this.bytes = 0;
  }

  private touch(entry: CacheEntry): void {
    this.lru.delete(entry);
    this.lru.add(entry);
  }

  /** Drop least recently used entries until the bound holds, sparing `keep`. */
  private evict(keep?: CacheEntry): void {
    for (const e of this.lru) {
      if (this.bytes <= this.maxBytes) return;
      if (e !== keep) this.remove(e);
    }
  }
}
