import { decodeBody } from '../../proxy/core/body-decode.js';
import { flowUrl, headerValue, type BodyCapture, type Flow, type HeaderPairs } from '../../proxy/core/flow.js';
import { isInSession } from '../../store/session-bodies.js';
import { bodyView } from '../body/body-doc.js';
import { formPairs, tableLines } from '../body/table.js';
import { arrayDoc, concatDocs, sanitize, type Doc, type Line, type Segment } from '../doc.js';
import { formatBytesLong, statusRole } from '../format.js';
import { tagAction } from '../proxy-action.js';
import { requestChanges, responseChanges } from './changes-doc.js';

const BLANK: Line = [];

function heading(text: string): Line {
  return [{ text, role: 'heading' }];
}

function one(text: string, role?: Segment['role']): Line {
  const clean = sanitize(text).replace(/\n/g, ' ');
  return [role ? { text: clean, role } : { text: clean }];
}

function headersSection(title: string, headers: HeaderPairs, width: number): Line[] {
  if (headers.length === 0) return [heading(`${title} (none)`)];
  return [heading(`${title} (${headers.length})`), ...tableLines(headers, width)];
}

/**
 * Every tag of the flow (and its mark), for the top of the request and response tabs; tags that
 * say what a rule did are coloured as in the list's proxy column. Null when there are none.
 */
export function tagsLine(flow: Flow): Line | null {
  const tags = [...(flow.marked ? ['marked'] : []), ...flow.tags];
  if (tags.length === 0) return null;
  const out: Segment[] = [{ text: 'tags: ', role: 'accent' }];
  tags.forEach((t, i) => {
    if (i > 0) out.push({ text: ', ', role: 'accent' });
    out.push({ text: sanitize(t).replace(/\n/g, ' '), role: tagAction(t)?.role ?? 'accent' });
  });
  return out;
}

type Rendered = { decoded: ReturnType<typeof decodeBody>; view: ReturnType<typeof bodyView> };

/**
 * Decoding and indexing a big body costs a noticeable fraction of a second, and a flow object is
 * replaced on every change (a tag, the phase, the other message's body), so the result is kept
 * per captured Buffer (which is replaced when its bytes change) and per what else it depends on.
 */
const rendered = new WeakMap<Buffer, Map<string, Rendered>>();

function decodedView(body: BodyCapture, headers: HeaderPairs, ct: string | undefined, width: number): Rendered {
  const make = (): Rendered => {
    const decoded = decodeBody(body, headers);
    return { decoded, view: bodyView(decoded.bytes, ct, width) };
  };
  if (!body.bytes) return make();
  const key = [ct ?? '', headerValue(headers, 'content-encoding') ?? '', body.truncated, body.state, width].join('\u0000');
  let perBuffer = rendered.get(body.bytes);
  if (!perBuffer) rendered.set(body.bytes, (perBuffer = new Map()));
  let hit = perBuffer.get(key);
  if (!hit) {
    hit = make();
    // One entry per width is plenty (a resize makes a new one; old widths are rarely revisited).
    if (perBuffer.size > 4) perBuffer.clear();
    perBuffer.set(key, hit);
  }
  return hit;
}

/** The body section: a title saying what is shown (type, size, coding, capture state), then the body. */
export function bodySection(body: BodyCapture, headers: HeaderPairs, width: number): Doc {
  if (body.size === 0 && body.state !== 'streaming') return arrayDoc([heading('Body'), one('(no body)', 'muted')]);
  if (isInSession(body)) {
    // Bounded memory (issue 7): the bytes are in the session; the app is reading them back.
    const title = heading(`Body · ${formatBytesLong(body.size)}`);
    if (body.readError !== undefined) return arrayDoc([title, one(`cannot read the body back from the session: ${body.readError}`, 'error')]);
    return arrayDoc([title, one('loading the body from the session…', 'muted')]);
  }
  if (!body.bytes || body.bytes.length === 0) return arrayDoc([heading(`Body · ${formatBytesLong(body.size)}`), one('(not captured)', 'muted')]);
  const ct = headerValue(headers, 'content-type');
  const { decoded, view } = decodedView(body, headers, ct, width);
  const facts: string[] = [ct ?? 'no content type', formatBytesLong(body.size)];
  if (decoded.encoding) facts.push(`${decoded.encoding} decoded to ${formatBytesLong(decoded.bytes.length)}`);
  facts.push(view.kind);
  const notes: Line[] = [];
  if (body.truncated) {
    notes.push(one(`truncated capture: showing the first ${formatBytesLong(body.bytes?.length ?? 0)} of ${formatBytesLong(body.size)}`, 'warn'));
  }
  if (body.state === 'streaming') notes.push(one('still streaming: showing what has arrived so far', 'muted'));
  if (body.state === 'aborted') notes.push(one('the body stream was aborted', 'warn'));
  if (decoded.error) notes.push(one(`shown as captured: ${decoded.error}`, 'warn'));
  return concatDocs([arrayDoc([heading(`Body · ${facts.join(' · ')}`), ...notes]), view.doc]);
}

/** The request tab. */
export function requestDoc(flow: Flow, width: number): Doc {
  const req = flow.request;
  const c = flow.client;
  const conn = [`client ${c.address}:${c.port}`, c.tlsVersion ? `${c.tlsVersion}` : null, c.sni ? `SNI ${c.sni}` : null, c.alpn ? `ALPN ${c.alpn}` : null]
    .filter((s): s is string => s !== null)
    .join(' · ');
  const top: Line[] = [
    [
      { text: `${req.method} `, role: 'heading' },
      { text: sanitize(flowUrl(req)) },
      { text: ` HTTP/${req.httpVersion}`, role: 'muted' },
    ],
    one(conn, 'muted'),
  ];
  const tags = tagsLine(flow);
  if (tags) top.push(tags);
  top.push(BLANK);
  if (flow.original?.request) top.push(...requestChanges(flow.original.request, req));
  top.push(...headersSection('Headers', req.headers, width));
  const q = req.path.indexOf('?');
  if (q >= 0) {
    const pairs = formPairs(req.path.slice(q + 1));
    if (pairs.length > 0) top.push(BLANK, heading(`Query (${pairs.length})`), ...tableLines(pairs, width));
  }
  if (req.trailers) top.push(BLANK, ...headersSection('Trailers', req.trailers, width));
  top.push(BLANK);
  return concatDocs([arrayDoc(top), bodySection(req.body, req.headers, width)]);
}

/** The response tab (or why there is none). */
export function responseDoc(flow: Flow, width: number): Doc {
  const res = flow.response;
  const top: Line[] = [];
  const tags = tagsLine(flow);
  if (flow.error) top.push(one(`Error ${flow.error.code}: ${flow.error.message}`, 'error'), BLANK);
  if (!res) {
    if (!flow.error) top.push(one(`No response yet (${flow.phase}).`, 'muted'));
    if (tags) top.push(tags);
    return arrayDoc(top);
  }
  const s = flow.server;
  const conn = [`server ${s.host}:${s.port}`, s.address ? `(${s.address})` : null, s.tlsVersion, s.alpn ? `ALPN ${s.alpn}` : null, s.certificate ? `cert ${s.certificate}` : null]
    .filter((x): x is string => !!x)
    .join(' · ');
  top.push(
    [
      { text: `HTTP/${res.httpVersion} `, role: 'muted' },
      { text: `${res.status}`, role: statusRole(res.status) },
      { text: ` ${sanitize(res.statusText)}` },
    ],
    one(conn, 'muted'),
    ...(tags ? [tags] : []),
    BLANK,
    ...(flow.original?.response ? responseChanges(flow.original.response, res) : []),
    ...headersSection('Headers', res.headers, width),
  );
  if (res.trailers) top.push(BLANK, ...headersSection('Trailers', res.trailers, width));
  top.push(BLANK);
  return concatDocs([arrayDoc(top), bodySection(res.body, res.headers, width)]);
}
