import { parseAuthority } from '../core/authority.js';
import type { RouteSettings } from './settings.js';

/** Where a request goes: the group, and the path to ask the backend for (prefix stripped or not). */
export interface RouteMatch {
  group: string;
  /** The request's path as the backend should see it (before the backend URL's own prefix). */
  path: string;
}

/**
 * Pick the route for a request, nginx-like: the Host decides first (an exact name beats the longest
 * matching `*.suffix`, which beats routes without a host), then the longest matching path prefix
 * among the routes for that host. A host whose routes match no prefix falls through to the less
 * specific host tiers, and finally to the default group. Pure.
 */
export function matchRoute(routes: readonly RouteSettings[], defaultGroup: string | null, hostHeader: string | undefined, path: string): RouteMatch | null {
  const host = hostOnly(hostHeader);
  for (const tier of hostTiers(routes, host)) {
    let best: RouteSettings | null = null;
    for (const r of tier) if (pathMatches(path, r.pathPrefix) && (!best || r.pathPrefix.length > best.pathPrefix.length)) best = r;
    if (best) return { group: best.group, path: best.stripPrefix ? stripPrefix(path, best.pathPrefix) : path };
  }
  return defaultGroup === null ? null : { group: defaultGroup, path };
}

/** Routes grouped by how specifically their host matches, most specific first. */
function hostTiers(routes: readonly RouteSettings[], host: string | null): RouteSettings[][] {
  const exact: RouteSettings[] = [];
  const wild = new Map<number, RouteSettings[]>();
  const any: RouteSettings[] = [];
  for (const r of routes) {
    if (r.host === null) any.push(r);
    else if (host === null) continue;
    else if (r.host.startsWith('*.')) {
      const suffix = r.host.slice(1).toLowerCase(); // ".example.com"
      if (host.endsWith(suffix) && host.length > suffix.length) {
        const list = wild.get(suffix.length) ?? [];
        list.push(r);
        wild.set(suffix.length, list);
      }
    } else if (r.host.toLowerCase() === host) exact.push(r);
  }
  const wildTiers = [...wild.entries()].sort((a, b) => b[0] - a[0]).map(([, list]) => list);
  return [exact, ...wildTiers, any].filter((t) => t.length > 0);
}

/** The host of a Host header, lowercased, without port, brackets or a trailing dot. */
export function hostOnly(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  const auth = parseAuthority(hostHeader.trim(), 0);
  if (!auth) return null;
  return auth.host.endsWith('.') ? auth.host.slice(0, -1) : auth.host;
}

/** `/api` matches `/api`, `/api/…` and `/api?…`; a prefix ending in `/` matches everything under it. */
export function pathMatches(path: string, prefix: string): boolean {
  if (prefix === '/' || prefix === '') return true;
  const q = path.search(/[?#]/);
  const p = q < 0 ? path : path.slice(0, q);
  if (prefix.endsWith('/')) return p.startsWith(prefix) || p === prefix.slice(0, -1);
  return p === prefix || p.startsWith(`${prefix}/`);
}

/** `/api/x?q` without `/api` → `/x?q`; the bare prefix becomes `/`. */
export function stripPrefix(path: string, prefix: string): string {
  const cut = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (cut === '' || !path.startsWith(cut)) return path;
  const rest = path.slice(cut.length);
  return rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`;
}

/** A backend URL's path prefix joined with the request path (`/v1` + `/users` → `/v1/users`). */
export function joinBackendPath(prefix: string, path: string): string {
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (base === '' || !path.startsWith('/')) return path;
  return `${base}${path}`;
}
