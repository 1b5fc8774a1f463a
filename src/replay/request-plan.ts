/**
 * What to send when replaying a recorded flow: which flows can be replayed at all, the request
 * (optionally aimed at another origin with `--target`), and its headers made fit for a fresh
 * HTTP/1.1 connection. Pure.
 */
import { parseAbsoluteTarget, hostHeader } from '../proxy/core/authority.js';
import { flowUrl, type Flow, type HeaderPairs } from '../proxy/core/flow.js';
import { hasHeader, removeHeader, setHeader, stripHopByHop } from '../proxy/core/headers.js';
import { h1FieldsFromH2 } from '../proxy/core/h2-translate.js';

/** The origin that replaces the recorded one (`--target`); path and query stay as recorded. */
export interface ReplayTarget {
  scheme: 'http' | 'https';
  host: string;
  port: number;
}

/** A request ready to send. */
export interface PlannedRequest {
  method: string;
  scheme: 'http' | 'https';
  host: string;
  port: number;
  /** Origin-form path and query. */
  path: string;
  /** The absolute URL, for display and the JSON report. */
  url: string;
  headers: HeaderPairs;
  body: Buffer;
}

export type Plan = { ok: true; request: PlannedRequest } | { ok: false; reason: string };

/**
 * Parse `--target`: `scheme://host[:port]` with nothing after the authority (a path would be
 * ambiguous: prefix or replacement?). Returns the target or a message for the user.
 */
export function parseReplayTarget(value: string): ReplayTarget | string {
  const t = parseAbsoluteTarget(value.trim());
  if (!t) return `--target must be an http(s) URL like http://127.0.0.1:3000, got ${JSON.stringify(value)}`;
  if (t.path !== '/' || /[?#]/.test(value)) return `--target takes only scheme://host[:port] (the recorded path and query are kept), got ${JSON.stringify(value)}`;
  return { scheme: t.scheme, host: t.host, port: t.port };
}

/** Tags of flows whose response proxyctl made itself; replaying them would compare against nothing real. */
const LOCAL_RESPONSE_TAGS = ['blocked', 'mocked', 'responded-at-breakpoint'];

/** Why this recorded flow cannot be replayed, or null when it can. */
export function skipReason(flow: Flow): string | null {
  if (flow.kind !== 'http') return `a ${flow.kind} flow is not replayed`;
  if (flow.request.method.toUpperCase() === 'CONNECT') return 'CONNECT is not replayed';
  if (flow.error) return `the recording ended in error (${flow.error.code})`;
  if (!flow.response) return 'no response was recorded';
  if (flow.response.status === 101) return 'a protocol upgrade is not replayed';
  const local = flow.tags.find((t) => LOCAL_RESPONSE_TAGS.includes(t));
  if (local) return `the recorded response came from proxyctl itself (${local})`;
  const b = flow.request.body;
  if (b.truncated) return `the request body was recorded only in part (${b.bytes?.length ?? 0} of ${b.size} bytes)`;
  if (b.state === 'aborted') return 'the request body was cut short when recorded';
  if (b.size > 0 && b.bytes === null) return 'the request body was not recorded';
  return null;
}

/** The request to send for `flow`, aimed at `target` when given. */
export function planReplay(flow: Flow, target: ReplayTarget | null): Plan {
  const reason = skipReason(flow);
  if (reason) return { ok: false, reason };
  const r = flow.request;
  const scheme = target?.scheme ?? r.scheme;
  const host = target?.host ?? r.host;
  const port = target?.port ?? r.port;
  const body = r.body.bytes ?? Buffer.alloc(0);
  const authority = hostHeader(scheme, host, port);
  const recorded = r.headers.filter(([k]) => k.charCodeAt(0) !== 58 /* ':' pseudo-headers */);
  // The body goes out whole with a length; the recorded framing and 100-continue handshake belonged
  // to the recorded connection (RFC 9110 §7.6.1, §10.1.1).
  const framed = r.body.size > 0 || hasHeader(recorded, 'content-length') || hasHeader(recorded, 'transfer-encoding');
  let headers = removeHeader(removeHeader(stripHopByHop(recorded), 'content-length'), 'expect');
  if (r.httpVersion === '2') headers = h1FieldsFromH2(headers, authority);
  // Aimed elsewhere, the Host must name the new origin or virtual hosting picks the wrong site.
  if (!hasHeader(headers, 'host')) headers = [['Host', authority], ...headers];
  else if (target) headers = setHeader(headers, 'Host', authority);
  if (framed) headers = setHeader(headers, 'Content-Length', String(body.length));
  return {
    ok: true,
    request: { method: r.method, scheme, host, port, path: r.path, url: flowUrl({ scheme, host, port, path: r.path }), headers, body },
  };
}
