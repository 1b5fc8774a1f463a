import { parseAbsoluteTarget, hostHeader, type AbsoluteTarget } from '../core/authority.js';
import type { Flow, FlowRequest } from '../core/flow.js';
import { hasHeader, setHeader } from '../core/headers.js';
import type { Addon } from '../core/pipeline.js';
import type { FlowPredicate } from '../filter/index.js';
import { addTag } from './pages.js';

export interface MapRemoteRuleOptions {
  /** e.g. `rules[2] map-remote`. */
  name: string;
  filterText: string;
  matches: FlowPredicate;
  /** Absolute http(s) URL, e.g. `http://127.0.0.1:3000` or `https://staging.example/v2/`. */
  to: string;
}

/**
 * Send matching requests to another origin. `to`'s scheme, host and port replace the request's;
 * a path in `to` other than `/` replaces the request path, a query in `to` replaces its query,
 * otherwise both are kept (`http://127.0.0.1:3000` maps `/a?b` to `http://127.0.0.1:3000/a?b`).
 * The request as it was is kept in `flow.original.request` for the detail view.
 */
export function mapRemoteRule(opts: MapRemoteRuleOptions): Addon {
  const { name, filterText, matches, to } = opts;
  const target = parseMapTarget(to);
  return {
    name,
    explain: () => `map-remote ${filterText} → ${to}`,
    requestHeaders(flow: Flow): void {
      if (!matches(flow)) return;
      const before = { ...flow.request, headers: flow.request.headers.slice() };
      Object.assign(flow.request, mapRequest(flow.request, target));
      // Keep the first original: a breakpoint edit or a second mapping must not hide where it came from.
      flow.original = { ...flow.original, request: flow.original?.request ?? before };
      addTag(flow.tags, 'map-remote');
    },
  };
}

/** The pieces of `to` that replace the request's. Throws on anything but an absolute http(s) URL. */
export interface MapTarget extends AbsoluteTarget {
  /** `to`'s path without the query, or null when it is `/` (keep the request's path). */
  pathname: string | null;
  /** `to`'s query including `?`, or null when it has none (keep the request's query). */
  search: string | null;
}

export function parseMapTarget(to: string): MapTarget {
  const t = parseAbsoluteTarget(to);
  if (!t) throw new Error(`map-remote target ${JSON.stringify(to)} is not an absolute http:// or https:// URL`);
  const q = t.path.indexOf('?');
  const pathname = q < 0 ? t.path : t.path.slice(0, q);
  const search = q < 0 || q === t.path.length - 1 ? null : t.path.slice(q);
  return { ...t, pathname: pathname === '/' || pathname === '' ? null : pathname, search };
}

/** The changed fields of a request mapped to `target` (pure; the caller assigns them). */
export function mapRequest(req: FlowRequest, target: MapTarget): Pick<FlowRequest, 'scheme' | 'host' | 'port' | 'path' | 'headers'> {
  const q = req.path.indexOf('?');
  const reqPath = q < 0 ? req.path : req.path.slice(0, q);
  const reqQuery = q < 0 ? '' : req.path.slice(q);
  const path = (target.pathname ?? reqPath) + (target.search ?? reqQuery);
  const headers = hasHeader(req.headers, 'host') ? setHeader(req.headers, 'Host', hostHeader(target.scheme, target.host, target.port)) : req.headers;
  return { scheme: target.scheme, host: target.host, port: target.port, path, headers };
}
