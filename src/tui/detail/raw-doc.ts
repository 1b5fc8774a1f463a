import type { BodyCapture, Flow, HeaderPairs } from '../../proxy/core/flow.js';
import { isInSession } from '../../store/session-bodies.js';
import { looksLikeText } from '../body/body-doc.js';
import { hexDoc } from '../body/hex.js';
import { arrayDoc, concatDocs, sanitize, textDoc, type Doc, type Line } from '../doc.js';

function headLines(first: string, headers: HeaderPairs): Line[] {
  return [[{ text: sanitize(first), role: 'heading' }], ...headers.map(([k, v]): Line => [{ text: sanitize(k), role: 'key' }, { text: `: ${sanitize(v).replace(/\n/g, ' ')}` }]), []];
}

/** The body as it passed (still content-encoded): text when it reads as text, else hex. */
function rawBody(body: BodyCapture, width: number): Doc {
  const bytes = body.bytes;
  if (isInSession(body)) {
    const text = body.readError !== undefined ? `[cannot read the body back from the session: ${body.readError}]` : `[${body.size} bytes: loading from the session…]`;
    return arrayDoc([[{ text, role: body.readError !== undefined ? 'error' : 'muted' }]]);
  }
  if (!bytes || bytes.length === 0) return arrayDoc([]);
  const doc = looksLikeText(bytes) ? textDoc(bytes.toString('utf8'), width) : hexDoc(bytes, width);
  const note: Line[] = body.truncated ? [[{ text: `[capture truncated: ${bytes.length} of ${body.size} bytes]`, role: 'warn' }]] : [];
  return concatDocs([doc, arrayDoc(note)]);
}

/** The raw tab: both messages as HTTP/1-style text, bodies as captured (not decoded). */
export function rawDoc(flow: Flow, width: number): Doc {
  const req = flow.request;
  const docs: Doc[] = [arrayDoc(headLines(`${req.method} ${req.path} HTTP/${req.httpVersion}`, req.headers)), rawBody(req.body, width)];
  const res = flow.response;
  if (res) {
    docs.push(arrayDoc([[], [{ text: '─'.repeat(Math.max(1, Math.min(width, 40))), role: 'muted' }], []]));
    docs.push(arrayDoc(headLines(`HTTP/${res.httpVersion} ${res.status} ${res.statusText}`, res.headers)), rawBody(res.body, width));
  }
  return concatDocs(docs);
}
