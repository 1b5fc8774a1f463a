/**
 * The response cache as a pipeline rule (issue 6): a private HTTP cache (RFC 9111) that can be
 * switched on and off live. `request` looks up (fresh → HIT, stale allowed by max-stale → STALE,
 * otherwise revalidate with the entry's validators); `responseHeaders` turns a 304 to its own
 * revalidation into the stored response (REVALIDATED), stores what may be stored and invalidates
 * after unsafe methods; `error` serves a stale copy when the origin cannot be reached.
 * The decisions live in freshness.ts, validation.ts and vary.ts; this file only wires them.
 */
import type { Flow, FlowErrorCode, HeaderPairs } from '../../core/flow.js';
import { headerValue } from '../../core/flow.js';
import { hasHeader, setHeader, stripHopByHop } from '../../core/headers.js';
import type { Addon, HookContext, HookDecision, LocalResponse } from '../../core/pipeline.js';
import { fieldValues } from './cache-control.js';
import { currentAge, requestDirectives, reuseDecision, staleOnErrorAllowed, storability, type RequestDirectives } from './freshness.js';
import { formatHttpDate } from './http-date.js';
import { cacheKey, type CacheEntry, type HttpCache } from './http-cache.js';
import {
  clientNotModified,
  conditionalFor,
  hasConditional,
  hasOriginPrecondition,
  headRefersTo,
  invalidationTargets,
  isSafeMethod,
  mergeNotModified,
  notModifiedHeaders,
  notModifiedRefersTo,
} from './validation.js';

export interface CacheAddonOptions {
  /** The store; the runtime keeps it too (stats, clear). */
  cache: HttpCache;
  /** The live "cache on" switch. */
  enabled: () => boolean;
  /** The live "no caching" switch: while on, the cache neither serves nor stores. */
  bypass: () => boolean;
  /** The clock, epoch milliseconds; every age and freshness computation reads it. @default Date.now */
  now?: () => number;
}

/** Tags put on flows (the exchange adds a decision's tag to the flow). */
export const CACHE_TAGS = {
  hit: 'cache:HIT',
  stale: 'cache:STALE',
  revalidated: 'cache:REVALIDATED',
  /** `only-if-cached` and nothing usable stored: answered 504 (§5.2.1.7). */
  miss: 'cache:MISS',
} as const;

/**
 * Failures after which a stale copy may stand in (§4.2.4, "disconnected"). TLS and certificate
 * failures are left out on purpose: a stale copy must not hide an interception or a bad certificate.
 */
const DISCONNECTED: ReadonlySet<FlowErrorCode> = new Set(['UPSTREAM_DNS', 'UPSTREAM_REFUSED', 'UPSTREAM_RESET', 'UPSTREAM_TIMEOUT', 'UPSTREAM_UNREACHABLE']);

/** What the `request` hook learnt about a GET/HEAD, for the later hooks of the same flow. */
interface Pending {
  key: string;
  /** `request_time` of §4.2.3. */
  requestTime: number;
  /** The request fields as the client sent them (before validators were added). */
  requestHeaders: HeaderPairs;
  directives: RequestDirectives;
  /** The variant the lookup selected, if any. */
  entry: CacheEntry | null;
  /** We added `If-None-Match`/`If-Modified-Since` to revalidate `entry`: a 304 is ours to answer. */
  revalidating: boolean;
}

export function cacheAddon(o: CacheAddonOptions): Addon {
  const { cache } = o;
  const now = o.now ?? Date.now;
  const pending = new WeakMap<Flow, Pending>();
  const active = () => o.enabled() && !o.bypass();

  /** The stored response as an answer to `flow`, with its current `Age` (§5.1); HEAD gets no body. */
  const answer = (flow: Flow, entry: CacheEntry, age: number, notModified = false): LocalResponse => {
    const headers = setHeader(notModified ? notModifiedHeaders(entry.headers) : entry.headers, 'Age', String(Math.min(2 ** 31, Math.floor(age))));
    const head = flow.request.method.toUpperCase() === 'HEAD';
    if (notModified) return { status: 304, statusText: 'Not Modified', headers, body: Buffer.alloc(0) };
    return { status: entry.status, statusText: entry.statusText, headers, body: head ? Buffer.alloc(0) : entry.body };
  };

  /** Serve a usable entry; a client's own `If-None-Match`/`If-Modified-Since` may make it a 304 (§4.3.2). */
  const serve = (flow: Flow, entry: CacheEntry, age: number, tag: string): HookDecision => {
    const notModified = hasConditional(flow.request.headers) && clientNotModified(flow.request.headers, entry, now());
    return { action: 'respond', response: answer(flow, entry, age, notModified), tag };
  };

  return {
    name: 'cache',

    explain() {
      const s = cache.stats();
      const size = `${s.entries} ${s.entries === 1 ? 'entry' : 'entries'}, ${formatBytes(s.bytes)} of ${formatBytes(s.maxBytes)}`;
      const state = !o.enabled() ? 'off, ' : o.bypass() ? 'bypassed by "no caching", ' : '';
      return `response cache (private, RFC 9111): ${state}${size}`;
    },

    request(flow, ctx) {
      const req = flow.request;
      const method = req.method.toUpperCase();
      if (flow.kind !== 'http' || (method !== 'GET' && method !== 'HEAD') || !active()) return;
      // Ranged requests go straight through: we do not answer them from whole responses (§3.4 is
      // optional) and do not store partial content. Upgrades are not cacheable exchanges at all.
      if (hasHeader(req.headers, 'range') || hasHeader(req.headers, 'upgrade')) return;
      const t = now();
      const key = cacheKey(req);
      const directives = requestDirectives(req.headers);
      // If-Match / If-Unmodified-Since / If-Range are for the origin (§4.3.2): do not answer them.
      const entry = hasOriginPrecondition(req.headers) ? null : (cache.lookup(key, req.headers) ?? null);
      const p: Pending = { key, requestTime: t, requestHeaders: req.headers.slice(), directives, entry, revalidating: false };
      if (!entry) {
        if (directives.onlyIfCached) return onlyIfCachedMiss();
        pending.set(flow, p);
        return;
      }

      // Answered here: nothing is remembered, so that no later hook can mistake our answer for the origin's.
      const reuse = reuseDecision(entry, directives, t);
      if (reuse.use === 'fresh') return serve(flow, entry, reuse.age, CACHE_TAGS.hit);
      if (reuse.use === 'stale') return serve(flow, entry, reuse.age, CACHE_TAGS.stale);
      if (directives.onlyIfCached) return onlyIfCachedMiss();
      pending.set(flow, p);
      // The client's own conditional goes to the origin as it is; a 304 to it may still freshen us.
      if (hasConditional(req.headers)) return;
      const conditional = conditionalFor(entry.headers);
      if (conditional.length === 0) return; // nothing to validate with: a plain request replaces it
      req.headers = [...req.headers, ...conditional];
      p.revalidating = true;
      ctx.log('debug', `cache: revalidating ${key} (${reuse.reason}, age ${Math.floor(reuse.age)}s)`);
    },

    responseHeaders(flow, ctx) {
      const res = flow.response;
      if (!res || flow.kind !== 'http') return;
      const req = flow.request;
      const method = req.method.toUpperCase();
      if (!isSafeMethod(method)) {
        // Invalidate even while the cache is off, so that switching it on never serves a copy
        // that a POST/PUT/DELETE has since made wrong.
        for (const url of invalidationTargets(method, res.status, cacheKey(req), res.headers)) cache.invalidate(url);
        return;
      }
      const p = pending.get(flow);
      if (!p) return;
      const t = now();

      if (res.status === 304 && p.entry) {
        const entry = p.entry;
        if (p.revalidating) {
          // Our own validators went out: the client expects a full response whatever the cache state.
          if (!notModifiedRefersTo(entry.headers, res.headers, false)) {
            cache.remove(entry);
            ctx.log('warn', `cache: the 304 for ${p.key} names another representation than the stored one; passed through, entry dropped (RFC 9111 §4.3.4)`);
            return;
          }
          freshen(entry, res.headers, p, t);
          return { action: 'respond', response: answer(flow, entry, currentAge(entry, t)), tag: CACHE_TAGS.revalidated };
        }
        // The client's own conditional: the 304 is theirs; it freshens us only if it names our copy.
        if (notModifiedRefersTo(entry.headers, res.headers, true)) freshen(entry, res.headers, p, t);
        return;
      }

      if (method === 'HEAD') {
        // §4.3.5: a 200 to a HEAD freshens the stored GET response it describes, or invalidates it.
        if (res.status === 200 && p.entry) {
          if (headRefersTo(p.entry.headers, res.headers)) freshen(p.entry, res.headers, p, t);
          else cache.remove(p.entry);
        }
        return;
      }

      const verdict = active() ? storability({ method, headers: p.requestHeaders }, res) : null;
      if (!verdict?.storable) {
        // A full response that is not stored still supersedes the variant it was matched against
        // (§4.3.3); a 5xx is forwarded and the stored copy kept (it may serve when disconnected).
        if (p.entry && res.status !== 304 && res.status < 500) cache.remove(p.entry);
        if (verdict) ctx.log('debug', `cache: not storing ${p.key} (${verdict.reason})`);
        return;
      }
      ctx.observeResponseBody(cache.maxEntryBytes, (body, done) => store(body, done, p, t, ctx));
    },

    error(flow, ctx) {
      const p = pending.get(flow);
      if (!p || !flow.error || !DISCONNECTED.has(flow.error.code)) return;
      // After a revalidation we started, the client still deserves an answer if one is allowed.
      if (!p.revalidating && !active()) return;
      // The entry looked up earlier may have been superseded or invalidated while the request ran.
      const entry = p.entry && cache.has(p.entry) ? p.entry : cache.lookup(p.key, p.requestHeaders);
      if (!entry || !staleOnErrorAllowed(entry, p.directives)) return;
      ctx.log('info', `cache: ${flow.error.code} from the origin; answered with the stored copy of ${p.key} (RFC 9111 §4.2.4)`);
      return { action: 'respond', response: answer(flow, entry, currentAge(entry, now())), tag: CACHE_TAGS.stale };
    },
  };

  /** Merge a 304's (or HEAD 200's) fields into an entry and reset its clock readings (§4.3.4). */
  function freshen(entry: CacheEntry, incoming: HeaderPairs, p: Pending, responseTime: number): void {
    const headers = mergeNotModified(entry.headers, incoming, formatHttpDate(responseTime));
    if (cache.has(entry)) cache.refresh(entry, headers, p.requestTime, responseTime, p.requestHeaders);
    else {
      // Evicted or cleared meanwhile: still answer from it (the client needs a full response), not stored again.
      entry.headers = headers;
      entry.requestTime = p.requestTime;
      entry.responseTime = responseTime;
    }
  }

  /** Store a complete body with the head the client got (read now: later rules may have changed it). */
  function store(body: Buffer | null, flow: Flow, p: Pending, responseTime: number, ctx: HookContext): void {
    const res = flow.response;
    if (body === null || !res || !active()) return;
    if (!storability({ method: flow.request.method, headers: p.requestHeaders }, res).storable) return;
    const length = fieldValues(res.headers, 'content-length');
    if (length.length > 1 || (length.length === 1 && (!/^\s*\d+\s*$/.test(length[0]!) || Number(length[0]) !== body.length))) {
      ctx.log('debug', `cache: not storing ${p.key} (body of ${body.length} bytes does not match Content-Length)`);
      return;
    }
    let headers = stripHopByHop(res.headers);
    // RFC 9110 §6.6.1: a recipient with a clock supplies a missing Date.
    if (headerValue(headers, 'date') === undefined) headers = [...headers, ['Date', formatHttpDate(responseTime)]];
    // So that HEAD answers and responses that came chunked carry their length (not for 204, §8.6).
    if (length.length === 0 && res.status !== 204) headers = [...headers, ['Content-Length', String(body.length)]];
    const entry = cache.put({ key: p.key, status: res.status, statusText: res.statusText, headers, body, requestTime: p.requestTime, responseTime, requestHeaders: p.requestHeaders });
    if (!entry) ctx.log('debug', `cache: not storing ${p.key} (${body.length} bytes is over the per-entry limit of ${cache.maxEntryBytes})`);
  }
}

/** The answer to `only-if-cached` when nothing usable is stored (§5.2.1.7). */
function onlyIfCachedMiss(): HookDecision {
  return {
    action: 'respond',
    response: {
      status: 504,
      statusText: 'Gateway Timeout',
      headers: [
        ['Content-Type', 'text/plain; charset=utf-8'],
        ['Cache-Control', 'no-store'],
      ],
      body: 'proxyctl: no stored response for this only-if-cached request\n',
    },
    tag: CACHE_TAGS.miss,
  };
}

/** `1258000` → `1.2 MB`: binary multiples (256 MiB shows as `256 MB`, as in the example). */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 || value >= 100 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
  return `${text} ${units[unit]}`;
}
