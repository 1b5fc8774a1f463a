/**
 * The flow model (DESIGN.md §4): one exchange between a client and a server, as plain data.
 * Everything outside the network layer (store, TUI, exporters, rules, filters) reads flows and
 * never holds sockets.
 */

/** Raw header pairs in wire order and case, e.g. `[["Content-Type", "text/plain"]]`. */
export type HeaderPairs = Array<[name: string, value: string]>;

export type FlowKind = 'http' | 'websocket' | 'tunnel';

export type FlowPhase =
  | 'requesting'
  | 'request-paused'
  | 'waiting'
  | 'response-paused'
  | 'responding'
  | 'done'
  | 'error';

export type HttpVersion = '1.0' | '1.1' | '2';

/** A captured message body: what passed, and as much of it as the capture limit allows. */
export interface BodyCapture {
  /** Bytes that passed through (the whole body, not only what was captured). */
  size: number;
  /** The first `min(size, limit)` bytes; null until the body has started. */
  bytes: Buffer | null;
  /** True when `size` exceeded the capture limit and `bytes` holds only the head. */
  truncated: boolean;
  /** Hex SHA-256 of the whole body; set when the body completed (lazily for untruncated bodies). */
  sha256: string | null;
  /** 'streaming' while bytes pass, 'complete' at the end, 'aborted' when the stream broke. */
  state: 'none' | 'streaming' | 'complete' | 'aborted';
}

export interface FlowRequest {
  method: string;
  /** `http` or `https`: the scheme of the origin the request is meant for. */
  scheme: 'http' | 'https';
  /** Host name or IP literal of the origin (no brackets for IPv6). */
  host: string;
  port: number;
  /** Path and query, origin-form (`/a?b=c`); `*` for OPTIONS *; authority for CONNECT. */
  path: string;
  httpVersion: HttpVersion;
  headers: HeaderPairs;
  trailers: HeaderPairs | null;
  body: BodyCapture;
}

export interface FlowResponse {
  status: number;
  statusText: string;
  httpVersion: HttpVersion;
  headers: HeaderPairs;
  trailers: HeaderPairs | null;
  body: BodyCapture;
}

export interface ClientInfo {
  address: string;
  port: number;
  /** e.g. `TLSv1.3` when the client spoke TLS to us, else null. */
  tlsVersion: string | null;
  sni: string | null;
  alpn: string | null;
  /** The proxy user this connection authenticated as (CONNECT with Proxy-Authorization); absent otherwise. */
  user?: string;
}

export interface ServerInfo {
  host: string;
  port: number;
  /** The address actually connected to, once known. */
  address: string | null;
  tlsVersion: string | null;
  alpn: string | null;
  /** One-line summary of the upstream certificate (subject CN, issuer CN, validity). */
  certificate: string | null;
}

/**
 * Time marks. `start` is epoch milliseconds; the others are milliseconds since `start`
 * measured on the monotonic clock, or null when the stage did not happen (yet).
 */
export interface FlowTimings {
  start: number;
  requestHeaders: number | null;
  requestEnd: number | null;
  /** TCP connection to the origin established (null when a pooled connection was reused). */
  upstreamConnect: number | null;
  /** TLS handshake with the origin finished (null for plain HTTP or a reused connection). */
  upstreamTls: number | null;
  /** When the request was handed to the upstream connection (after rules and connect). */
  upstreamSent: number | null;
  firstByte: number | null;
  responseEnd: number | null;
}

export interface FlowError {
  code: FlowErrorCode;
  message: string;
}

/** Stable error codes (tests assert these, not messages). See errors.ts for the HTTP mapping. */
export type FlowErrorCode =
  | 'BAD_REQUEST'
  | 'HEADERS_TOO_LARGE'
  | 'CLIENT_TIMEOUT'
  | 'CLIENT_ABORTED'
  | 'UPSTREAM_DNS'
  | 'UPSTREAM_REFUSED'
  | 'UPSTREAM_RESET'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_TLS'
  | 'UPSTREAM_CERT_EXPIRED'
  | 'UPSTREAM_CERT_SELF_SIGNED'
  | 'UPSTREAM_CERT_UNTRUSTED'
  | 'UPSTREAM_CERT_HOSTNAME'
  | 'UPSTREAM_PROTOCOL'
  | 'CLIENT_TLS'
  | 'TUNNEL_FAILED'
  | 'STREAM_RESET'
  | 'KILLED'
  | 'RULE_FAILED'
  | 'COMMAND_FAILED'
  | 'COMMAND_TIMEOUT'
  | 'INTERNAL';

export interface WebSocketMessage {
  direction: 'client' | 'server';
  type: 'text' | 'binary' | 'ping' | 'pong' | 'close';
  /** Full payload size in bytes. */
  size: number;
  /** Payload, capped; for text frames decoded as UTF-8 by readers. */
  payload: Buffer;
  truncated: boolean;
  /** Epoch milliseconds. */
  time: number;
}

export interface WebSocketInfo {
  messages: WebSocketMessage[];
  /** Messages beyond the per-flow limit are counted, not kept. */
  droppedMessages: number;
  closeCode: number | null;
  closeReason: string | null;
  closedBy: 'client' | 'server' | 'abrupt' | null;
}

export interface Flow {
  /** Sortable unique id (time-ordered). */
  id: string;
  kind: FlowKind;
  phase: FlowPhase;
  client: ClientInfo;
  server: ServerInfo;
  request: FlowRequest;
  response: FlowResponse | null;
  timings: FlowTimings;
  error: FlowError | null;
  /** Free-form markers: `blocked`, `cache:HIT`, `mocked`, `replay-of:ID` … */
  tags: string[];
  marked: boolean;
  websocket: WebSocketInfo | null;
  /** Set while the flow waits at a breakpoint. */
  pause?: PauseInfo | null;
  /** The messages as they were before a breakpoint edit changed them (for showing the difference). */
  original?: { request?: FlowRequest; response?: FlowResponse } | null;
}

export interface PauseInfo {
  stage: 'request' | 'response';
  /** Epoch milliseconds when the flow paused. */
  since: number;
  /** Epoch milliseconds when the timeout policy applies, or null to wait for the user. */
  deadline: number | null;
  onTimeout: 'continue' | 'abort';
  /** The breakpoint that matched, in words (`intercept ~u /api/`). */
  reason: string;
}

export function emptyBody(): BodyCapture {
  return { size: 0, bytes: null, truncated: false, sha256: null, state: 'none' };
}

/** The request URL as a string, e.g. `https://example.com:8443/a?b`. */
export function flowUrl(req: Pick<FlowRequest, 'scheme' | 'host' | 'port' | 'path'>): string {
  const defaultPort = req.scheme === 'https' ? 443 : 80;
  const host = req.host.includes(':') ? `[${req.host}]` : req.host;
  const port = req.port === defaultPort ? '' : `:${req.port}`;
  // CONNECT carries an authority as its target and `*` means the server itself: no path.
  const authorityForm = req.path === `${req.host}:${req.port}` || req.path === `[${req.host}]:${req.port}`;
  const path = req.path.startsWith('/') ? req.path : req.path === '*' || authorityForm ? '' : `/${req.path}`;
  return `${req.scheme}://${host}${port}${path}`;
}

/** First value of a header, case-insensitive. */
export function headerValue(headers: HeaderPairs, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of headers) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * Time the proxy itself added before the request left for the origin: parsing, rules and
 * dispatch (`upstreamSent - requestHeaders`). Connecting to the origin is not counted; a direct
 * client would have to connect too.
 */
export function proxyOverheadMs(t: FlowTimings): number | null {
  if (t.upstreamSent === null || t.requestHeaders === null) return null;
  return Math.max(0, t.upstreamSent - t.requestHeaders);
}

/** Duration from accept to the end of the response (or null while in flight). */
export function flowDurationMs(t: FlowTimings): number | null {
  return t.responseEnd;
}
