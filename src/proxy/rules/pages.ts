import type { HeaderPairs } from '../core/flow.js';
import type { LocalResponse } from '../core/pipeline.js';

/**
 * The small pages proxyctl answers with itself (block page, 407, 429). They are never cached
 * (`Cache-Control: no-store`): a browser that cached a block page would keep showing it after the
 * rule is gone.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** An HTML page with a title and paragraphs of plain text (escaped here, never trusted). */
export function htmlResponse(status: number, title: string, paragraphs: readonly string[], extraHeaders: HeaderPairs = []): LocalResponse {
  const body =
    `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>` +
    `<h1>${escapeHtml(title)}</h1>` +
    paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('') +
    '</body></html>\n';
  return {
    status,
    headers: [['Content-Type', 'text/html; charset=utf-8'], ['Cache-Control', 'no-store'], ...extraHeaders],
    body,
  };
}

/** A one-line (or few-line) plain-text answer. */
export function textResponse(status: number, text: string, extraHeaders: HeaderPairs = []): LocalResponse {
  return {
    status,
    headers: [['Content-Type', 'text/plain; charset=utf-8'], ['Cache-Control', 'no-store'], ...extraHeaders],
    body: text.endsWith('\n') ? text : `${text}\n`,
  };
}

/** Push a tag once (a flow may pass several rules that tag the same way). */
export function addTag(tags: string[], tag: string): void {
  if (!tags.includes(tag)) tags.push(tag);
}
