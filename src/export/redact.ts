import { contentCodings, decodeBody } from '../proxy/core/body-decode.js';
import type { BodyCapture, Flow, HeaderPairs, WebSocketMessage } from '../proxy/core/flow.js';
import { sha256Hex } from '../store/session-codec.js';
import { isJsonMediaType, mediaType, utf8Text } from './http-fields.js';
import { parseJsonPath, replaceAtPath, type JsonPath } from './json-path.js';

/** What replaces a secret. */
export const REDACTED = '[REDACTED]';

/** Headers that carry credentials in almost every session; redacted unless `--no-redact`. */
export const DEFAULT_REDACTED_HEADERS = ['Authorization', 'Proxy-Authorization', 'Cookie', 'Set-Cookie'] as const;

export interface RedactionSpec {
  /** Header names (any case), replaced wherever they appear (requests, responses, trailers). */
  headers: readonly string[];
  /** JSON paths (`$.token`), applied to JSON bodies and JSON WebSocket text messages. */
  jsonPaths: readonly string[];
}

/** A compiled redaction: parse once (bad paths throw `JsonPathError`), apply to many flows. */
export interface Redaction {
  headers: Map<string, string>;
  paths: JsonPath[];
}

export function compileRedaction(spec: RedactionSpec): Redaction {
  const headers = new Map<string, string>();
  for (const h of spec.headers) if (!headers.has(h.toLowerCase())) headers.set(h.toLowerCase(), h);
  return { headers, paths: spec.jsonPaths.map(parseJsonPath) };
}

/** The default spec plus the user's additions. */
export function defaultRedaction(extraHeaders: readonly string[] = [], jsonPaths: readonly string[] = []): RedactionSpec {
  return { headers: [...DEFAULT_REDACTED_HEADERS, ...extraHeaders], jsonPaths };
}

/** Counts per header name / JSON path, and bodies that could not be searched. */
export class RedactionReport {
  readonly counts = new Map<string, number>();
  /** JSON bodies captured only in part: their secrets could not be searched. */
  truncatedJson = 0;

  add(key: string, n = 1): void {
    if (n > 0) this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  get total(): number {
    let t = 0;
    for (const n of this.counts.values()) t += n;
    return t;
  }

  /** One line for stderr, e.g. `redacted Authorization ×2, $.token ×1`. */
  describe(): string {
    const parts = [...this.counts].map(([k, n]) => `${k} ×${n}`);
    let line = parts.length ? `redacted ${parts.join(', ')}` : 'redacted nothing (no secrets found)';
    if (this.truncatedJson) line += `; ${this.truncatedJson} truncated JSON bod${this.truncatedJson === 1 ? 'y was' : 'ies were'} not searched`;
    return line;
  }
}

/** A copy of `flow` with its secrets replaced by `[REDACTED]`, counting into `report`. */
export function redactFlow(flow: Flow, r: Redaction, report: RedactionReport): Flow {
  const req = flow.request;
  const res = flow.response;
  const reqHeaders = redactHeaders(req.headers, r, report);
  const resHeaders = res ? redactHeaders(res.headers, r, report) : null;
  const reqBody = redactBody(req.body, reqHeaders, r, report);
  const resBody = res && resHeaders ? redactBody(res.body, resHeaders, r, report) : null;
  return {
    ...flow,
    request: { ...req, headers: reqBody.headers, trailers: req.trailers && redactHeaders(req.trailers, r, report), body: reqBody.body },
    response: res && resBody ? { ...res, headers: resBody.headers, trailers: res.trailers && redactHeaders(res.trailers, r, report), body: resBody.body } : null,
    websocket: flow.websocket ? { ...flow.websocket, messages: flow.websocket.messages.map((m) => redactMessage(m, r, report)) } : null,
  };
}

function redactHeaders(headers: HeaderPairs, r: Redaction, report: RedactionReport): HeaderPairs {
  if (r.headers.size === 0) return headers;
  return headers.map(([name, value]): [string, string] => {
    const label = r.headers.get(name.toLowerCase());
    if (!label) return [name, value];
    report.add(label);
    return [name, REDACTED];
  });
}

/**
 * JSON paths apply to a body that is JSON (by media type, or by starting like JSON) once its
 * Content-Encoding is undone. When something is replaced, the body is written back as plain JSON:
 * the coding is dropped and Content-Length made to match, so the export stays self-consistent.
 */
function redactBody(body: BodyCapture, headers: HeaderPairs, r: Redaction, report: RedactionReport): { body: BodyCapture; headers: HeaderPairs } {
  if (r.paths.length === 0 || !body.bytes || body.bytes.length === 0) return { body, headers };
  const decoded = decodeBody(body, headers);
  if (decoded.error) return { body, headers };
  const text = utf8Text(decoded.bytes);
  if (text === null || !(isJsonMediaType(mediaType(headers)) || /^\s*[[{]/.test(text))) return { body, headers };
  if (body.truncated) {
    report.truncatedJson++;
    return { body, headers };
  }
  const result = redactJsonText(text, r, report);
  if (result === null) return { body, headers };
  const bytes = Buffer.from(result, 'utf8');
  const coded = contentCodings(headers).length > 0;
  const nextHeaders = headers
    .filter(([k]) => !(coded && k.toLowerCase() === 'content-encoding'))
    .map(([k, v]): [string, string] => (k.toLowerCase() === 'content-length' ? [k, String(bytes.length)] : [k, v]));
  return { body: { ...body, bytes, size: bytes.length, sha256: sha256Hex(bytes), truncated: false }, headers: nextHeaders };
}

/** The JSON text with the paths replaced, or null when it is not JSON or nothing matched. */
export function redactJsonText(text: string, r: Redaction, report: RedactionReport): string | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null; // looked like JSON but is not: nothing to search by path
  }
  let changed = 0;
  for (const p of r.paths) {
    const n = replaceAtPath(doc, p, REDACTED);
    report.add(p.source, n);
    changed += n;
  }
  return changed ? JSON.stringify(doc) : null;
}

function redactMessage(m: WebSocketMessage, r: Redaction, report: RedactionReport): WebSocketMessage {
  if (m.type !== 'text' || m.truncated || r.paths.length === 0) return m;
  const out = redactJsonText(m.payload.toString('utf8'), r, report);
  if (out === null) return m;
  const payload = Buffer.from(out, 'utf8');
  return { ...m, payload, size: payload.length };
}
