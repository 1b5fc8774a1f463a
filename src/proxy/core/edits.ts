import type { RequestEdit, ResponseEdit } from './commands.js';
import type { FlowRequest, FlowResponse, HeaderPairs } from './flow.js';
import { parseAbsoluteTarget, hostHeader } from './authority.js';
import { hasHeader, setHeader, removeHeader } from './headers.js';

/** Thrown for an edit that cannot apply (bad URL, bad status); the flow stays paused. */
export class EditError extends Error {
  override name = 'EditError';
}

/**
 * Make headers describe a body that is now whole and of this length: a length replaces chunked
 * framing, and a message that had no body framing keeps none when it is still empty.
 */
export function fixBodyFraming(headers: HeaderPairs, length: number): HeaderPairs {
  const framed = hasHeader(headers, 'content-length') || hasHeader(headers, 'transfer-encoding');
  let out = removeHeader(headers, 'transfer-encoding');
  if (framed || length > 0) out = setHeader(out, 'Content-Length', String(length));
  return out;
}

/** Apply a request edit, returning the new request (the old one is left untouched). */
export function applyRequestEdit(req: FlowRequest, edit: RequestEdit, currentBody: Buffer): { request: FlowRequest; body: Buffer } {
  let next: FlowRequest = { ...req };
  if (edit.method !== undefined) {
    if (!/^[A-Za-z!#$%&'*+.^_`|~0-9-]+$/.test(edit.method)) throw new EditError(`not a valid method: ${JSON.stringify(edit.method)}`);
    next.method = edit.method;
  }
  if (edit.url !== undefined) {
    const target = parseAbsoluteTarget(edit.url);
    if (!target) throw new EditError(`not an absolute http(s) URL: ${JSON.stringify(edit.url)}`);
    next = { ...next, scheme: target.scheme, host: target.host, port: target.port, path: target.path };
    // A new authority means a new Host, unless the user wrote the headers themselves.
    if (edit.headers === undefined && hasHeader(next.headers, 'host')) next.headers = setHeader(next.headers, 'Host', hostHeader(target.scheme, target.host, target.port));
  }
  if (edit.headers !== undefined) next.headers = edit.headers;
  const body = edit.body ?? currentBody;
  if (edit.body !== undefined || edit.headers !== undefined) next.headers = fixBodyFraming(next.headers, body.length);
  return { request: next, body };
}

export function applyResponseEdit(res: FlowResponse, edit: ResponseEdit, currentBody: Buffer): { response: FlowResponse; body: Buffer } {
  const next: FlowResponse = { ...res };
  if (edit.status !== undefined) {
    if (!Number.isInteger(edit.status) || edit.status < 200 || edit.status > 599) throw new EditError(`status must be between 200 and 599, got ${edit.status}`);
    if (edit.status !== res.status) next.statusText = ''; // the writer supplies the standard phrase
    next.status = edit.status;
  }
  if (edit.headers !== undefined) next.headers = edit.headers;
  const body = edit.body ?? currentBody;
  if (edit.body !== undefined || edit.headers !== undefined) next.headers = fixBodyFraming(next.headers, body.length);
  return { response: next, body };
}
