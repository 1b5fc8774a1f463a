/**
 * The flow factory for tests: a complete, plausible `Flow` from keyword overrides.
 *
 *     makeFlow()                                        // GET http://example.com/ → 200 text/plain "ok"
 *     makeFlow({ response: { status: 404 } })           // same, answered 404
 *     makeFlow({ response: null })                      // waiting for the response
 *     makeFlow({ request: { method: 'POST', body: body('{"a":1}') } })
 *     makeFlow({ response: { headers: [['Content-Encoding', 'gzip']], body: gzipBody('hello') } })
 *
 * Nested objects (request, response, their bodies, client, server, timings, error, websocket) are
 * merged into the defaults; arrays (headers, tags, messages) and Buffers replace them whole.
 * A few defaults follow from what you override, so the flow stays consistent:
 * - `request.port` defaults to 443 for `scheme: 'https'`, else 80; the `Host` header, `server` and
 *   (for https) client SNI and TLS fields follow `request.host`/`port`/`scheme`/`httpVersion`.
 * - `response: null` makes the default phase `waiting` and leaves `firstByte`/`responseEnd` null;
 *   an `error` makes it `error`; `websocket` makes the default kind `websocket`.
 * - Default response headers carry `Content-Type: text/plain` and the body's `Content-Length`.
 * Pass any of these explicitly to get exactly what you pass.
 */
import { createHash } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type {
  BodyCapture,
  ClientInfo,
  Flow,
  FlowError,
  FlowRequest,
  FlowResponse,
  FlowTimings,
  HeaderPairs,
  ServerInfo,
  WebSocketInfo,
} from '../../src/proxy/core/flow.js';
import { emptyBody } from '../../src/proxy/core/flow.js';

/** Every property optional, recursively; arrays and Buffers are given whole. */
export type DeepPartial<T> = T extends Buffer
  ? T
  : T extends readonly unknown[]
    ? T
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> }
      : T;

/** Epoch of every default flow: 2024-01-01T00:00:00Z, so tests that print times are stable. */
export const DEFAULT_START = Date.UTC(2024, 0, 1);

let sequence = 0;

/** A new flow id: `flow-000001`, `flow-000002` … sortable in creation order like real ids. */
export function nextFlowId(): string {
  sequence++;
  return `flow-${String(sequence).padStart(6, '0')}`;
}

export interface BodyOptions {
  /**
   * Capture limit: when the body is longer, `bytes` holds only this many leading bytes and
   * `truncated` is true (`size` stays the whole length). @default no limit
   */
  limit?: number;
  /** @default 'complete' */
  state?: BodyCapture['state'];
}

/** A BodyCapture holding `content` (a string is UTF-8 encoded). */
export function body(content: string | Buffer, opts: BodyOptions = {}): BodyCapture {
  const whole = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const truncated = opts.limit !== undefined && whole.length > opts.limit;
  const state = opts.state ?? 'complete';
  return {
    size: whole.length,
    bytes: truncated ? whole.subarray(0, opts.limit) : whole,
    truncated,
    sha256: state === 'complete' ? createHash('sha256').update(whole).digest('hex') : null,
    state,
  };
}

export type ContentCoding = 'gzip' | 'deflate' | 'br';

/** A BodyCapture of `text` compressed with `coding`; pair it with a matching `Content-Encoding`. */
export function compressedBody(text: string, coding: ContentCoding, opts: BodyOptions = {}): BodyCapture {
  const raw = Buffer.from(text, 'utf8');
  const packed = coding === 'gzip' ? gzipSync(raw) : coding === 'deflate' ? deflateSync(raw) : brotliCompressSync(raw);
  return body(packed, opts);
}

/** `compressedBody(text, 'gzip')`; pair it with `Content-Encoding: gzip`. */
export function gzipBody(text: string, opts: BodyOptions = {}): BodyCapture {
  return compressedBody(text, 'gzip', opts);
}

/** Build a flow from overrides; see the file comment for the defaults. */
export function makeFlow(overrides: DeepPartial<Flow> = {}): Flow {
  const request = makeRequest(overrides.request ?? {});
  const https = request.scheme === 'https';
  const h2 = request.httpVersion === '2';
  const response =
    overrides.response === null ? null : makeResponse(overrides.response ?? {}, request.httpVersion);
  const error: FlowError | null =
    overrides.error === undefined || overrides.error === null
      ? null
      : { code: 'INTERNAL', message: 'something failed', ...overrides.error };
  const websocket: WebSocketInfo | null =
    overrides.websocket === undefined || overrides.websocket === null
      ? null
      : {
          messages: [],
          droppedMessages: 0,
          closeCode: null,
          closeReason: null,
          closedBy: null,
          ...overrides.websocket,
        };

  const client: ClientInfo = {
    address: '127.0.0.1',
    port: 50000,
    tlsVersion: https ? 'TLSv1.3' : null,
    sni: https && !isIp(request.host) ? request.host : null,
    alpn: https ? (h2 ? 'h2' : 'http/1.1') : null,
    ...overrides.client,
  };
  const server: ServerInfo = {
    host: request.host,
    port: request.port,
    address: '192.0.2.10', // TEST-NET-1 (RFC 5737)
    tlsVersion: https ? 'TLSv1.3' : null,
    alpn: https ? (h2 ? 'h2' : 'http/1.1') : null,
    certificate: https ? `CN=${request.host}; issuer CN=Test CA; valid 2024-01-01..2025-01-01` : null,
    ...overrides.server,
  };
  const timings: FlowTimings = {
    start: DEFAULT_START,
    requestHeaders: 1,
    requestEnd: 2,
    upstreamConnect: 5,
    upstreamTls: https ? 12 : null,
    upstreamSent: https ? 13 : 6,
    firstByte: response === null ? null : 30,
    responseEnd: response === null ? null : 35,
    ...overrides.timings,
  };

  return {
    id: overrides.id ?? nextFlowId(),
    kind: overrides.kind ?? (websocket !== null ? 'websocket' : 'http'),
    phase: overrides.phase ?? (error !== null ? 'error' : response === null ? 'waiting' : 'done'),
    client,
    server,
    request,
    response,
    timings,
    error,
    tags: overrides.tags ?? [],
    marked: overrides.marked ?? false,
    websocket,
  };
}

function makeRequest(o: DeepPartial<FlowRequest>): FlowRequest {
  const scheme = o.scheme ?? 'http';
  const host = o.host ?? 'example.com';
  const port = o.port ?? (scheme === 'https' ? 443 : 80);
  const defaultPort = scheme === 'https' ? 443 : 80;
  const authority = `${host.includes(':') ? `[${host}]` : host}${port === defaultPort ? '' : `:${port}`}`;
  const headers: HeaderPairs = o.headers ?? [
    ['Host', authority],
    ['User-Agent', 'curl/8.5.0'],
    ['Accept', '*/*'],
  ];
  return {
    method: o.method ?? 'GET',
    scheme,
    host,
    port,
    path: o.path ?? '/',
    httpVersion: o.httpVersion ?? '1.1',
    headers,
    trailers: o.trailers ?? null,
    body: { ...emptyBody(), ...o.body },
  };
}

function makeResponse(o: DeepPartial<FlowResponse>, httpVersion: FlowRequest['httpVersion']): FlowResponse {
  const capture: BodyCapture = { ...body('ok'), ...o.body };
  const headers: HeaderPairs = o.headers ?? [
    ['Content-Type', 'text/plain'],
    ['Content-Length', String(capture.size)],
  ];
  const status = o.status ?? 200;
  return {
    status,
    statusText: o.statusText ?? STATUS_TEXT[status] ?? '',
    httpVersion: o.httpVersion ?? httpVersion,
    headers,
    trailers: o.trailers ?? null,
    body: capture,
  };
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  407: 'Proxy Authentication Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function isIp(host: string): boolean {
  return host.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(host);
}
