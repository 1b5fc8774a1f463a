import { headerValue } from '../../proxy/core/flow.js';
import { arrayDoc, concatDocs, sanitize, textDoc, type Doc, type Line } from '../doc.js';
import { formatBytesLong } from '../format.js';
import { hexDoc } from './hex.js';
import { imageInfo, type ImageInfo } from './image.js';
import { isJsonType, jsonHighlight, prettyJson } from './json.js';
import { indentMarkup, isHtmlType, isXmlType, markupHighlight } from './markup.js';
import { multipartBoundary, parseMultipart } from './multipart.js';
import { formPairs, tableLines } from './table.js';

export type BodyKind = 'empty' | 'json' | 'form' | 'multipart' | 'html' | 'xml' | 'image' | 'text' | 'hex';

export interface BodyView {
  kind: BodyKind;
  doc: Doc;
}

/** How many leading bytes decide whether unlabelled content is text. */
const SNIFF_BYTES = 4096;

/**
 * Choose a rendering for a (decoded) body from its content type, falling back to sniffing the
 * bytes: JSON pretty-printed and coloured, forms as tables, multipart as per-part summaries,
 * markup indented, images summarized, other text as text, anything else as a hex dump.
 */
export function bodyView(bytes: Buffer, contentType: string | undefined, width: number): BodyView {
  const ct = (contentType ?? '').trim();
  const lower = ct.toLowerCase();
  if (bytes.length === 0) return { kind: 'empty', doc: arrayDoc([[{ text: '(empty body)', role: 'muted' }]]) };
  const image = imageInfo(bytes);
  if (image || (lower.startsWith('image/') && !lower.startsWith('image/svg'))) {
    return { kind: 'image', doc: arrayDoc([imageLine(image, ct, bytes.length)]) };
  }
  if (lower.startsWith('multipart/')) {
    const boundary = multipartBoundary(ct);
    if (boundary) return { kind: 'multipart', doc: multipartDoc(bytes, boundary, width) };
  }
  const textual = isTextType(lower) || (!lower.startsWith('application/octet-stream') && looksLikeText(bytes));
  if (!textual) return { kind: 'hex', doc: hexDoc(bytes, width) };
  const text = decodeText(bytes, ct);
  if (lower.startsWith('application/x-www-form-urlencoded')) {
    return { kind: 'form', doc: arrayDoc(tableLines(formPairs(text), width)) };
  }
  if (isJsonType(lower) || !lower || lower.startsWith('text/plain')) {
    const pretty = prettyJson(text, { trusted: isJsonType(lower) });
    if (pretty !== null) return { kind: 'json', doc: textDoc(pretty, width, jsonHighlight) };
  }
  if (isHtmlType(lower)) return { kind: 'html', doc: textDoc(indentMarkup(text, true), width, markupHighlight) };
  if (isXmlType(lower) || (!lower && /^\s*<\?xml\b/.test(text))) {
    return { kind: 'xml', doc: textDoc(indentMarkup(text, false), width, markupHighlight) };
  }
  return { kind: 'text', doc: textDoc(text, width) };
}

function imageLine(info: ImageInfo | null, contentType: string, size: number): Line {
  const what = info ? `${info.type.toUpperCase()} image, ${info.width}×${info.height} px` : `${contentType || 'image'} (dimensions unknown)`;
  return [{ text: `${what}, ${formatBytesLong(size)}`, role: 'accent' }];
}

function isTextType(ct: string): boolean {
  return /^text\/|[/+](json|xml)\b|javascript|ecmascript|x-www-form-urlencoded|^application\/(graphql|x-ndjson|yaml|toml)/.test(ct);
}

/** Valid UTF-8 with hardly any control characters in its first bytes. */
export function looksLikeText(bytes: Buffer): boolean {
  const head = bytes.subarray(0, SNIFF_BYTES);
  if (head.includes(0)) return false;
  const text = head.toString('utf8');
  let odd = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // The last character may be a multi-byte sequence cut by the sniff window.
    if (c === 0xfffd && i < text.length - 1) odd++;
    else if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c && c !== 0x1b) odd++;
  }
  return odd <= text.length / 50;
}

/** Decode with the declared charset when Node knows it, else UTF-8. */
export function decodeText(bytes: Buffer, contentType: string): string {
  const charset = /;\s*charset="?([^";\s]+)/i.exec(contentType)?.[1]?.toLowerCase();
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    try {
      return new TextDecoder(charset).decode(bytes);
    } catch {
      // An unknown label: UTF-8 is the best guess on today's web.
    }
  }
  return bytes.toString('utf8');
}

function multipartDoc(bytes: Buffer, boundary: string, width: number): Doc {
  const parts = parseMultipart(bytes, boundary);
  if (parts.length === 0) return hexDoc(bytes, width);
  const docs: Doc[] = [];
  parts.forEach((part, i) => {
    const ct = headerValue(part.headers, 'content-type') ?? '';
    const disposition = headerValue(part.headers, 'content-disposition') ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    const title = [`part ${i + 1}/${parts.length}`, name !== undefined ? `name=${name}` : null, filename !== undefined ? `file=${filename}` : null, formatBytesLong(part.body.length), part.incomplete ? 'incomplete (capture cut short)' : null]
      .filter((s): s is string => s !== null)
      .join(' · ');
    const lines: Line[] = [[{ text: sanitize(title).replace(/\n/g, ' '), role: 'heading' }], ...tableLines(part.headers, width)];
    lines.push([{ text: partSummary(part.body, ct, width - 2), role: 'muted' }]);
    lines.push([]);
    docs.push(arrayDoc(lines));
  });
  return concatDocs(docs);
}

/** One line saying what a part holds: image size, the start of its text, or that it is binary. */
function partSummary(body: Buffer, contentType: string, width: number): string {
  if (body.length === 0) return '(empty)';
  const image = imageInfo(body);
  if (image) return `${image.type.toUpperCase()} image, ${image.width}×${image.height} px`;
  if (!isTextType(contentType.toLowerCase()) && !looksLikeText(body)) return `binary (${contentType || 'no content type'})`;
  const text = sanitize(decodeText(body.subarray(0, 512), contentType)).replace(/\n/g, '⏎');
  return text.length > width ? `${text.slice(0, Math.max(1, width - 1))}…` : text;
}
