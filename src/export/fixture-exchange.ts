import { decodeBody } from '../proxy/core/body-decode.js';
import { flowUrl, type Flow, type HeaderPairs } from '../proxy/core/flow.js';
import { connectionTokens } from '../proxy/core/headers.js';
import { header, isJsonMediaType, mediaType, utf8Text } from './http-fields.js';

/**
 * The shape the fixture generators (nock, msw, vitest) share: one recorded request and the answer
 * to give it, cleaned up for a mock that answers in-process.
 *
 * - Response bodies are decoded (Content-Encoding removed, with its header): a mock hands the body
 *   straight to the client, and msw/nock do not re-encode; the client sees what it saw then.
 * - Framing and connection fields (Content-Length, Transfer-Encoding, Connection and what it
 *   names, Keep-Alive …) and HTTP/2 pseudo-headers are dropped: the mock library frames the body.
 * - Only finished HTTP exchanges with a final status qualify; the rest are counted as skipped.
 */
export interface FixtureExchange {
  /** Position in the recording (0-based), for test names. */
  index: number;
  method: string;
  /** Absolute URL as `new URL()` normalizes it. */
  url: string;
  origin: string;
  pathname: string;
  /** `?a=1` or ''. */
  search: string;
  /** The request's Content-Type, if any. */
  requestContentType: string | null;
  requestBody: Buffer;
  status: number;
  statusText: string;
  headers: HeaderPairs;
  body: Buffer;
  /** The response body is the captured head of a longer body. */
  truncated: boolean;
  /** The body may not be sent with this status/method (HEAD, 1xx, 204, 205, 304). */
  noBody: boolean;
}

export interface FixtureSelection {
  exchanges: FixtureExchange[];
  /** Flows left out, by reason. */
  skipped: Map<string, number>;
}

/** Fields a mock must not copy: its library frames the body (RFC 9110 §7.6.1, §8.6; RFC 9112 §6.1). */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

export function fixtureExchanges(flows: Iterable<Flow>): FixtureSelection {
  const exchanges: FixtureExchange[] = [];
  const skipped = new Map<string, number>();
  const skip = (why: string) => skipped.set(why, (skipped.get(why) ?? 0) + 1);
  for (const flow of flows) {
    if (flow.kind !== 'http') {
      skip(`${flow.kind} flows`);
      continue;
    }
    const res = flow.response;
    if (!res || flow.phase !== 'done') {
      skip('flows without a complete response');
      continue;
    }
    if (res.status < 200) {
      skip('interim (1xx) responses');
      continue;
    }
    if (flow.request.method === 'CONNECT') {
      skip('CONNECT requests');
      continue;
    }
    const url = new URL(flowUrl(flow.request));
    const decoded = decodeBody(res.body, res.headers);
    const body = decoded.error ? (res.body.bytes ?? Buffer.alloc(0)) : decoded.bytes;
    const dropCoding = decoded.encoding !== null && decoded.error === null;
    const named = connectionTokens(res.headers);
    const headers = res.headers.filter(([k]) => {
      const lower = k.toLowerCase();
      return !lower.startsWith(':') && !FRAMING.has(lower) && !named.has(lower) && !(dropCoding && lower === 'content-encoding');
    });
    const method = flow.request.method.toUpperCase();
    exchanges.push({
      index: exchanges.length,
      method,
      url: url.href,
      origin: url.origin,
      pathname: url.pathname,
      search: url.search,
      requestContentType: header(flow.request.headers, 'content-type') ?? null,
      requestBody: flow.request.body.bytes ?? Buffer.alloc(0),
      status: res.status,
      statusText: res.statusText,
      headers,
      body,
      truncated: res.body.truncated,
      noBody: method === 'HEAD' || res.status === 204 || res.status === 205 || res.status === 304,
    });
  }
  return { exchanges, skipped };
}

/** How a generator should write a body: as JSON (readable), as text, or as base64 (exact bytes). */
export type BodyForm = { kind: 'json'; value: unknown; text: string } | { kind: 'text'; text: string } | { kind: 'base64'; base64: string };

/**
 * JSON form only when re-serializing gives the very same bytes (so nothing changes on the wire);
 * text when the bytes are UTF-8; base64 otherwise.
 */
export function bodyForm(bytes: Buffer, headers: HeaderPairs): BodyForm {
  const text = utf8Text(bytes);
  if (text === null) return { kind: 'base64', base64: bytes.toString('base64') };
  if (isJsonMediaType(mediaType(headers)) || /^[[{]/.test(text)) {
    try {
      const value: unknown = JSON.parse(text);
      if (value !== null && typeof value === 'object' && JSON.stringify(value) === text) return { kind: 'json', value, text };
    } catch {
      // Not JSON after all: plain text.
    }
  }
  return { kind: 'text', text };
}

/** `exchanges skipped: 2 websocket flows, 1 flows without a complete response` (or ''). */
export function describeSkipped(skipped: Map<string, number>): string {
  return [...skipped].map(([why, n]) => `${n} ${why}`).join(', ');
}
