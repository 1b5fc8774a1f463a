import { decodeBody } from '../proxy/core/body-decode.js';
import { flowUrl, type BodyCapture, type Flow, type FlowTimings, type HttpVersion } from '../proxy/core/flow.js';
import type { Har, HarContent, HarEntry, HarPostData, HarTimings, HarWebSocketMessage } from './har-schema.js';
import { bodyText, cookiePairs, header, mediaType, queryParams, setCookies } from './http-fields.js';

export { harToFlows } from './har-import.js';

/**
 * HAR 1.2 export (DESIGN.md §9): a document browsers' devtools and Playwright's `routeFromHAR`
 * load. Pure functions over flows; `harHead`/`harTail` let a caller stream entries to a file
 * without holding a whole session.
 *
 * Choices, where HAR leaves room:
 * - Response `content.text` is the body with its Content-Encoding removed, as HAR asks ("decoded");
 *   `content.size` is that decoded length and `bodySize` the bytes on the wire. When the coding
 *   cannot be undone, the wire bytes are given (base64) and a comment says so.
 * - Binary bodies: `content.encoding: "base64"`; a request body has no encoding field in HAR, so
 *   `postData.text` holds base64 and the custom `_encoding: "base64"` marks it.
 * - A truncated capture gives the head it kept, with a `comment` naming both sizes.
 * - Flows that never got a response (errors) have status 0, as Chrome writes them, and `_error`.
 * - Tunnels (CONNECT without interception) carry no HTTP exchange and are left out.
 * - `_proxyctl` keeps what HAR has no place for (id, tags, raw timing marks, capture state), so
 *   importing our own HAR gives the flows back.
 */

export interface HarOptions {
  /** `log.creator.version`. @default '0.1.0' */
  creatorVersion?: string;
  /** `log.comment`, e.g. the session name. */
  comment?: string;
}

export function flowsToHar(flows: Iterable<Flow>, opts: HarOptions = {}): Har {
  const entries: HarEntry[] = [];
  for (const flow of flows) {
    const entry = flowToHarEntry(flow);
    if (entry) entries.push(entry);
  }
  return { log: { ...harLogHeader(opts), entries } };
}

/** The JSON text before the first entry, for streaming (`harHead() + entries.join(',') + harTail()`). */
export function harHead(opts: HarOptions = {}): string {
  const text = JSON.stringify({ log: { ...harLogHeader(opts), entries: [] } }, null, 2);
  return text.slice(0, text.lastIndexOf('[') + 1) + '\n';
}

export function harTail(): string {
  return '\n  ]\n  }\n}\n';
}

function harLogHeader(opts: HarOptions): { version: string; creator: { name: string; version: string }; comment?: string } {
  return {
    version: '1.2',
    creator: { name: 'proxyctl', version: opts.creatorVersion ?? '0.1.0' },
    ...(opts.comment ? { comment: opts.comment } : {}),
  };
}

/** One HAR entry, or null for a flow HAR cannot describe (a tunnel). */
export function flowToHarEntry(flow: Flow): HarEntry | null {
  if (flow.kind === 'tunnel') return null;
  const req = flow.request;
  const res = flow.response;
  const url = flowUrl(req);
  const timings = harTimings(flow.timings);
  const entry: HarEntry = {
    startedDateTime: new Date(flow.timings.start).toISOString(),
    time: totalTime(timings),
    request: {
      method: req.method,
      url,
      httpVersion: versionLabel(req.httpVersion),
      cookies: cookiePairs(req.headers),
      headers: req.headers.map(([name, value]) => ({ name, value })),
      queryString: queryParams(req.path),
      ...(req.body.size > 0 || (req.body.bytes?.length ?? 0) > 0 ? { postData: postData(req.body, req.headers) } : {}),
      headersSize: -1,
      bodySize: req.body.size,
    },
    response: res
      ? {
          status: res.status,
          statusText: res.statusText,
          httpVersion: versionLabel(res.httpVersion),
          cookies: setCookies(res.headers),
          // HTTP/2 pseudo-headers (`:status`) are not header fields; replayers refuse them.
          headers: res.headers.filter(([name]) => !name.startsWith(':')).map(([name, value]) => ({ name, value })),
          content: content(res.body, res.headers),
          redirectURL: redirectUrl(header(res.headers, 'location'), url),
          headersSize: -1,
          bodySize: res.body.size,
        }
      : { status: 0, statusText: '', httpVersion: '', cookies: [], headers: [], content: { size: 0, mimeType: 'x-unknown' }, redirectURL: '', headersSize: -1, bodySize: -1 },
    cache: {},
    timings,
    ...(flow.server.address ? { serverIPAddress: flow.server.address } : {}),
    ...(flow.error ? { _error: `${flow.error.code}: ${flow.error.message}` } : {}),
    ...(flow.kind === 'websocket' ? { _resourceType: 'websocket', _webSocketMessages: wsMessages(flow) } : {}),
    _proxyctl: {
      id: flow.id,
      kind: flow.kind,
      phase: flow.phase,
      tags: flow.tags,
      marked: flow.marked,
      error: flow.error,
      timings: flow.timings,
      client: flow.client,
      server: flow.server,
      requestBody: captureState(req.body),
      responseBody: res ? captureState(res.body) : null,
      requestTrailers: req.trailers,
      responseTrailers: res?.trailers ?? null,
      websocket: flow.websocket ? { droppedMessages: flow.websocket.droppedMessages, closeCode: flow.websocket.closeCode, closeReason: flow.websocket.closeReason, closedBy: flow.websocket.closedBy } : null,
    },
  };
  return entry;
}

export function versionLabel(v: HttpVersion): string {
  return v === '2' ? 'HTTP/2' : `HTTP/${v}`;
}

/**
 * HAR timings from our marks (milliseconds since `start`), laid end to end from the request
 * headers on. Our marks do not separate DNS from TCP connect, so `dns` is -1 and `connect` covers
 * both; as HAR 1.2 asks for compatibility, `connect` includes `ssl`.
 *
 * `upstreamSent` may come before the connection is up (the request is handed to a connection that
 * is still connecting) or after it (handed once connected): in the first case the time before it
 * is the proxy's own (`blocked`) and connecting follows; in the second, connecting started with
 * the request and whatever remains before `upstreamSent` is `blocked`. A local answer (no upstream)
 * has `connect` -1. Marks out of order are clamped, so every phase is >= 0 and they add up.
 */
export function harTimings(t: FlowTimings): HarTimings {
  const t0 = t.requestHeaders ?? 0;
  const sent = Math.max(t0, t.upstreamSent ?? t.requestEnd ?? t0);
  const connectedAt = t.upstreamTls ?? t.upstreamConnect;
  let blocked: number;
  let connect = -1;
  let ssl = -1;
  let sendStart = sent;
  if (connectedAt !== null) {
    const handedEarly = t.upstreamSent !== null && t.upstreamSent < connectedAt;
    const connectStart = handedEarly ? sent : t0;
    const connected = Math.max(connectStart, connectedAt);
    connect = connected - connectStart;
    if (t.upstreamTls !== null && t.upstreamConnect !== null) ssl = Math.max(0, connected - Math.max(connectStart, t.upstreamConnect));
    blocked = handedEarly ? sent - t0 : Math.max(0, sent - connected);
    sendStart = Math.max(sent, connected);
  } else {
    blocked = sent - t0;
  }
  const sendEnd = Math.max(sendStart, t.requestEnd ?? sendStart);
  const first = Math.max(sendEnd, t.firstByte ?? sendEnd);
  const end = Math.max(first, t.responseEnd ?? first);
  return {
    blocked: round(blocked),
    dns: -1,
    connect: round(connect),
    send: round(sendEnd - sendStart),
    wait: round(first - sendEnd),
    receive: round(end - first),
    ssl: round(ssl),
  };
}

/** `time`: the sum of the phases that happened (`ssl` is already inside `connect`). */
function totalTime(t: HarTimings): number {
  const parts = [t.blocked ?? -1, t.dns ?? -1, t.connect ?? -1, t.send, t.wait, t.receive];
  return round(parts.filter((n) => n >= 0).reduce((a, b) => a + b, 0));
}

function postData(body: BodyCapture, headers: Flow['request']['headers']): HarPostData {
  const bytes = body.bytes ?? Buffer.alloc(0);
  const { text, base64 } = bodyText(bytes);
  const type = header(headers, 'content-type') ?? '';
  const out: HarPostData = { mimeType: type, text };
  if (base64) out._encoding = 'base64';
  if (mediaType(headers) === 'application/x-www-form-urlencoded' && !base64) out.params = queryParams(`?${text}`);
  const note = truncationNote(body);
  if (note) out.comment = note;
  return out;
}

function content(body: BodyCapture, headers: Flow['request']['headers']): HarContent {
  const mimeType = header(headers, 'content-type') ?? 'x-unknown';
  if (body.bytes === null && body.size > 0) return { size: body.size, mimeType, comment: 'body not recorded' };
  const decoded = decodeBody(body, headers);
  const notes: string[] = [];
  const t = truncationNote(body);
  if (t) notes.push(t);
  if (decoded.error) notes.push(`content-encoding not removed (${decoded.error}); text holds the bytes as received`);
  const { text, base64 } = bodyText(decoded.bytes);
  const out: HarContent = { size: decoded.bytes.length, mimeType };
  if (decoded.encoding && !decoded.error && !body.truncated) out.compression = decoded.bytes.length - body.size;
  if (decoded.bytes.length > 0 || body.size > 0) out.text = text;
  if (base64) out.encoding = 'base64';
  if (notes.length) out.comment = notes.join('; ');
  return out;
}

function truncationNote(body: BodyCapture): string | null {
  if (!body.truncated) return null;
  return `truncated: ${body.bytes?.length ?? 0} of ${body.size} bytes captured`;
}

function captureState(body: BodyCapture): { size: number; truncated: boolean; sha256: string | null; state: BodyCapture['state'] } {
  return { size: body.size, truncated: body.truncated, sha256: body.sha256, state: body.state };
}

function redirectUrl(location: string | undefined, base: string): string {
  if (!location) return '';
  try {
    return new URL(location, base).href;
  } catch {
    return location; // not a URL we can resolve: give it as sent
  }
}

/** Chrome's `_webSocketMessages`: data frames only (opcode 1 text, 2 binary), time in seconds. */
function wsMessages(flow: Flow): HarWebSocketMessage[] {
  const out: HarWebSocketMessage[] = [];
  for (const m of flow.websocket?.messages ?? []) {
    if (m.type !== 'text' && m.type !== 'binary') continue;
    out.push({
      type: m.direction === 'client' ? 'send' : 'receive',
      time: m.time / 1000,
      opcode: m.type === 'text' ? 1 : 2,
      data: m.type === 'text' ? m.payload.toString('utf8') : m.payload.toString('base64'),
    });
  }
  return out;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
