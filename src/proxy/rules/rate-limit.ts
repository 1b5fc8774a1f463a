import type { Flow } from '../core/flow.js';
import type { Addon, HookDecision } from '../core/pipeline.js';
import type { FlowPredicate } from '../filter/index.js';
import { textResponse } from './pages.js';

export interface RateLimitRuleOptions {
  /** e.g. `rules[6] rate-limit`. */
  name: string;
  filterText: string;
  matches: FlowPredicate;
  /** Sustained requests per second allowed to each client address. */
  perSecond: number;
  /** Requests a client may make at once after being idle. @default max(1, ceil(perSecond)) */
  burst?: number;
  /** Milliseconds on a monotonic clock. @default performance.now */
  now?: () => number;
  /** Client addresses tracked at most; idle ones are forgotten first. @default 10000 */
  maxClients?: number;
}

export interface RateLimitAddon extends Addon {
  /** How many client addresses the rule remembers now (bounded by `maxClients`). */
  trackedClients(): number;
}

/** Float slack: 10 tokens/s for 100 ms must give back a whole token, not 0.9999999. */
const EPSILON = 1e-9;

interface Bucket {
  tokens: number;
  /** `now()` when `tokens` was computed. */
  at: number;
}

/**
 * A token bucket per client address: each matching request takes a token, tokens come back at
 * `perSecond` up to `burst`. An empty bucket answers 429 with `Retry-After` (RFC 6585 §4) in whole
 * seconds until the next token.
 */
export function rateLimitRule(opts: RateLimitRuleOptions): RateLimitAddon {
  const { name, filterText, matches, perSecond } = opts;
  const burst = opts.burst ?? Math.max(1, Math.ceil(perSecond));
  const now = opts.now ?? (() => performance.now());
  const maxClients = Math.max(1, opts.maxClients ?? 10_000);
  const perMs = perSecond / 1000;
  /** Insertion order = least recently used first (a used bucket is moved to the end). */
  const buckets = new Map<string, Bucket>();

  const refill = (b: Bucket, t: number): void => {
    if (t > b.at) b.tokens = Math.min(burst, b.tokens + (t - b.at) * perMs);
    b.at = t;
  };

  /**
   * Keep the map bounded under a scan from many addresses: forget buckets that have refilled
   * (forgetting a full bucket changes nothing), then, if all are still busy, the least recently
   * used ones. Trimming to 90% makes the sweep's cost amortized over the next insertions.
   */
  const trim = (t: number): void => {
    const target = Math.floor(maxClients * 0.9);
    for (const [key, b] of buckets) {
      refill(b, t);
      if (b.tokens >= burst - EPSILON) buckets.delete(key);
    }
    for (const key of buckets.keys()) {
      if (buckets.size <= target) break;
      buckets.delete(key);
    }
  };

  return {
    name,
    trackedClients: () => buckets.size,
    explain: () => `rate-limit ${filterText} to ${perSecond}/s per client (burst ${burst})`,
    requestHeaders(flow: Flow): HookDecision | void {
      if (!matches(flow)) return;
      const t = now();
      const key = flow.client.address;
      let b = buckets.get(key);
      if (b) {
        buckets.delete(key);
        refill(b, t);
      } else {
        if (buckets.size >= maxClients) trim(t);
        b = { tokens: burst, at: t };
      }
      buckets.set(key, b);
      if (b.tokens >= 1 - EPSILON) {
        b.tokens = Math.max(0, b.tokens - 1);
        return;
      }
      const retryAfter = Math.max(1, Math.ceil((1 - b.tokens) / perSecond));
      return {
        action: 'respond',
        tag: 'rate-limited',
        response: textResponse(429, `proxyctl: too many requests (${name} allows ${perSecond}/s, burst ${burst}); retry in ${retryAfter} s`, [
          ['Retry-After', String(retryAfter)],
        ]),
      };
    },
  };
}
