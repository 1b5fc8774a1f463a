import type { Flow } from '../core/flow.js';
import { hasHeader, removeHeader, setHeader } from '../core/headers.js';
import type { Addon } from '../core/pipeline.js';
import { addTag } from './pages.js';

/**
 * Request fields that let an origin answer 304 or a partial copy of what the client has cached.
 * `If-Range` goes together with `Range`: a range without its validator could splice parts of two
 * different versions. `If-Match` / `If-Unmodified-Since` stay: they guard writes (lost-update
 * protection, RFC 9110 §13.1.1), not caches.
 */
const CONDITIONAL_REQUEST = ['if-none-match', 'if-modified-since'];
const RESPONSE_VALIDATORS = ['etag', 'last-modified', 'expires', 'age'];

/**
 * The "no caching" toggle (Charles' "No Caching", DESIGN.md §7 `noCache`): every exchange goes to
 * the origin in full and nothing the client receives can be cached or revalidated. `enabled` is
 * read on every request so the TUI can flip it without rebuilding the pipeline.
 */
export function noCacheRule(enabled: () => boolean): Addon {
  return {
    name: 'no-cache',
    explain: () => `no caching: strip conditional and cache headers (${enabled() ? 'on' : 'off'})`,
    requestHeaders(flow: Flow): void {
      if (!enabled()) return;
      let h = flow.request.headers;
      for (const name of CONDITIONAL_REQUEST) h = removeHeader(h, name);
      if (hasHeader(h, 'if-range')) h = removeHeader(removeHeader(h, 'if-range'), 'range');
      h = setHeader(setHeader(h, 'Cache-Control', 'no-cache'), 'Pragma', 'no-cache');
      flow.request.headers = h;
      addTag(flow.tags, 'no-cache');
    },
    responseHeaders(flow: Flow): void {
      if (!enabled() || !flow.response) return;
      let h = flow.response.headers;
      for (const name of RESPONSE_VALIDATORS) h = removeHeader(h, name);
      flow.response.headers = setHeader(h, 'Cache-Control', 'no-store');
      addTag(flow.tags, 'no-cache');
    },
  };
}
