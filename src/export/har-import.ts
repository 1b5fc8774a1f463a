import type { z } from 'zod';
import { formatIssues } from '../config/schema.js';
import { createIdGenerator } from '../proxy/core/ids.js';
import type { BodyCapture, Flow, FlowError, FlowTimings, HeaderPairs, HttpVersion, WebSocketMessage } from '../proxy/core/flow.js';
import { sha256Hex } from '../store/session-codec.js';
import { harSchema, type HarContent, type HarEntry, type HarPostData, type HarTimings } from './har-schema.js';

/** A HAR document we cannot read; the message names the entry and field. */
export class HarError extends Error {
  override name = 'HarError';
  readonly code = 'HAR_INVALID';
}

/**
 * HAR → flows (`proxyctl import`, and `export`/`serve` reading a .har file). Validated with zod at
 * the edge; every entry becomes one finished flow.
 *
 * What comes back depends on who wrote the HAR:
 * - Our own HARs carry `_proxyctl` (ids, tags, timing marks, capture state): those are restored.
 * - Response bodies in HAR are decoded, so an imported response has its `Content-Encoding` (and
 *   the then-wrong `Content-Length`) removed, keeping headers and body consistent.
 * - Timing marks are rebuilt from the HAR phases when no `_proxyctl.timings` is present.
 * - A HAR saved without content (`size` but no `text`) gives a body with `bytes: null` and that
 *   size: it passed, but was not recorded.
 */
export function harToFlows(input: unknown): Flow[] {
  const parsed = harSchema.safeParse(input);
  if (!parsed.success) {
    const issues = formatIssues(parsed.error as z.ZodError);
    throw new HarError(`not a HAR 1.2 document: ${issues.slice(0, 3).join('; ')}`);
  }
  const newId = createIdGenerator();
  return parsed.data.log.entries.map((entry, i) => entryToFlow(entry, i, newId));
}

interface ProxyctlExtra {
  id?: string;
  kind?: Flow['kind'];
  phase?: Flow['phase'];
  tags?: string[];
  marked?: boolean;
  error?: FlowError | null;
  timings?: FlowTimings;
  client?: Flow['client'];
  server?: Flow['server'];
  requestBody?: { truncated: boolean; sha256: string | null; size: number; state: BodyCapture['state'] };
  responseBody?: { truncated: boolean; sha256: string | null; size: number; state: BodyCapture['state'] } | null;
  requestTrailers?: HeaderPairs | null;
  responseTrailers?: HeaderPairs | null;
  websocket?: { droppedMessages: number; closeCode: number | null; closeReason: string | null; closedBy: 'client' | 'server' | 'abrupt' | null } | null;
}

function entryToFlow(entry: HarEntry, index: number, newId: () => string): Flow {
  const extra = (entry['_proxyctl'] ?? {}) as ProxyctlExtra;
  let url: URL;
  try {
    url = new URL(entry.request.url);
  } catch {
    throw new HarError(`log.entries[${index}].request.url: not an absolute URL: ${JSON.stringify(entry.request.url)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new HarError(`log.entries[${index}].request.url: unsupported scheme ${url.protocol}`);
  }
  const scheme = url.protocol === 'https:' || url.protocol === 'wss:' ? 'https' : 'http';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
  const start = Date.parse(entry.startedDateTime);
  const reqHeaders: HeaderPairs = entry.request.headers.map((h) => [h.name, h.value]);
  const res = entry.response;
  const hasResponse = res.status > 0;
  const resHeadersRaw: HeaderPairs = res.headers.map((h) => [h.name, h.value]);
  const decodedBody = hasResponse ? contentBytes(res.content) : Buffer.alloc(0);
  // Saved without content ("HAR without bodies"): the size is known, the bytes are not.
  const responseNotSaved = hasResponse && res.content.text === undefined && res.content.size > 0;
  const requestNotSaved = entry.request.postData?.text === undefined && !entry.request.postData?.params?.length && entry.request.bodySize > 0;
  const resHeaders = hasResponse && res.content.text !== undefined ? withoutCoding(resHeadersRaw, decodedBody.length) : resHeadersRaw;
  const errorText = typeof entry['_error'] === 'string' ? (entry['_error'] as string) : null;
  const isWs = extra.kind === 'websocket' || entry['_resourceType'] === 'websocket' || entry._webSocketMessages !== undefined;

  return {
    id: extra.id ?? newId(),
    kind: extra.kind ?? (isWs ? 'websocket' : 'http'),
    phase: extra.phase ?? (hasResponse ? 'done' : 'error'),
    client: extra.client ?? { address: '127.0.0.1', port: 0, tlsVersion: null, sni: null, alpn: null },
    server: extra.server ?? { host, port, address: entry.serverIPAddress ?? null, tlsVersion: null, alpn: null, certificate: null },
    request: {
      method: entry.request.method,
      scheme,
      host,
      port,
      path: `${url.pathname}${url.search}`,
      httpVersion: parseVersion(entry.request.httpVersion),
      headers: reqHeaders,
      trailers: extra.requestTrailers ?? null,
      body: requestNotSaved ? notSaved(entry.request.bodySize) : capture(postDataBytes(entry.request.postData), extra.requestBody ?? null),
    },
    response: hasResponse
      ? {
          status: res.status,
          statusText: res.statusText,
          httpVersion: parseVersion(res.httpVersion),
          headers: resHeaders,
          trailers: extra.responseTrailers ?? null,
          body: responseNotSaved ? notSaved(res.content.size) : capture(decodedBody, extra.responseBody ?? null),
        }
      : null,
    timings: extra.timings ?? marksFromHar(Number.isNaN(start) ? 0 : start, entry.timings),
    error: extra.error ?? (hasResponse ? null : { code: 'INTERNAL', message: errorText ?? 'no response recorded in the HAR' }),
    tags: extra.tags ?? ['imported'],
    marked: extra.marked ?? false,
    websocket: isWs
      ? {
          messages: (entry._webSocketMessages ?? []).filter((m) => m.opcode === 1 || m.opcode === 2).map(wsMessage),
          droppedMessages: extra.websocket?.droppedMessages ?? 0,
          closeCode: extra.websocket?.closeCode ?? null,
          closeReason: extra.websocket?.closeReason ?? null,
          closedBy: extra.websocket?.closedBy ?? null,
        }
      : null,
  };
}

function parseVersion(label: string): HttpVersion {
  const v = label.toLowerCase();
  if (v === 'h2' || v.startsWith('http/2')) return '2';
  if (v === 'http/1.0') return '1.0';
  return '1.1';
}

function postDataBytes(p: HarPostData | undefined): Buffer {
  if (!p) return Buffer.alloc(0);
  if (p.text !== undefined) return Buffer.from(p.text, p._encoding === 'base64' ? 'base64' : 'utf8');
  // Only params: rebuild the form body they came from.
  const form = (p.params ?? []).map((x) => `${encodeURIComponent(x.name)}=${encodeURIComponent(x.value ?? '')}`).join('&');
  return Buffer.from(form, 'utf8');
}

function contentBytes(c: HarContent): Buffer {
  if (c.text === undefined) return Buffer.alloc(0);
  return Buffer.from(c.text, c.encoding === 'base64' ? 'base64' : 'utf8');
}

/** HAR text is decoded: drop Content-Encoding and make Content-Length describe the bytes we hold. */
function withoutCoding(headers: HeaderPairs, length: number): HeaderPairs {
  const coded = headers.some(([k, v]) => k.toLowerCase() === 'content-encoding' && v.trim().toLowerCase() !== 'identity');
  if (!coded) return headers;
  return headers
    .filter(([k]) => k.toLowerCase() !== 'content-encoding')
    .map(([k, v]): [string, string] => (k.toLowerCase() === 'content-length' ? [k, String(length)] : [k, v]));
}

function capture(bytes: Buffer, meta: { truncated: boolean; sha256: string | null; size: number; state: BodyCapture['state'] } | null): BodyCapture {
  const state = meta?.state ?? (bytes.length > 0 ? 'complete' : 'none');
  if (bytes.length === 0 && state === 'none') return { size: meta?.size ?? 0, bytes: null, truncated: false, sha256: meta?.sha256 ?? null, state };
  const truncated = meta?.truncated ?? false;
  return {
    // A decoded HAR body is the body now (its coding was dropped with the header), unless truncated.
    size: truncated ? meta!.size : bytes.length,
    bytes,
    truncated,
    sha256: truncated ? meta!.sha256 : state === 'complete' ? sha256Hex(bytes) : (meta?.sha256 ?? null),
    state,
  };
}

/** A body that passed but whose bytes the HAR does not hold: `bytes` null, `size` known. */
function notSaved(size: number): BodyCapture {
  return { size, bytes: null, truncated: false, sha256: null, state: 'complete' };
}

/** Rebuild timing marks from HAR phases laid end to end after `blocked`. */
function marksFromHar(start: number, t: HarTimings): FlowTimings {
  const pos = (n: number | undefined) => (n !== undefined && n > 0 ? n : 0);
  const blocked = pos(t.blocked);
  const connectStart = blocked;
  const hasConnect = t.connect !== undefined && t.connect >= 0;
  const ssl = pos(t.ssl);
  const connected = connectStart + pos(t.dns) + pos(t.connect);
  const sent = hasConnect ? connected : blocked;
  const sendEnd = sent + pos(t.send);
  const first = sendEnd + pos(t.wait);
  return {
    start,
    requestHeaders: 0,
    requestEnd: sendEnd,
    upstreamConnect: hasConnect ? connected - ssl : null,
    upstreamTls: hasConnect && t.ssl !== undefined && t.ssl >= 0 ? connected : null,
    upstreamSent: sent,
    firstByte: first,
    responseEnd: first + pos(t.receive),
  };
}

function wsMessage(m: { type: 'send' | 'receive'; time: number; opcode: number; data: string }): WebSocketMessage {
  const payload = Buffer.from(m.data, m.opcode === 1 ? 'utf8' : 'base64');
  return {
    direction: m.type === 'send' ? 'client' : 'server',
    type: m.opcode === 1 ? 'text' : 'binary',
    size: payload.length,
    payload,
    truncated: false,
    time: Math.round(m.time * 1000),
  };
}
