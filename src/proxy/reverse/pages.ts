import type { LocalResponse } from '../core/pipeline.js';
import type { BackendStatus } from './status.js';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(status: number, title: string, inner: string, headers: Array<[string, string]>): LocalResponse {
  const body =
    `<!doctype html><html><head><meta charset="utf-8"><title>${status} ${escapeHtml(title)}</title></head>` +
    `<body><h1>${status} ${escapeHtml(title)}</h1>${inner}<hr><p>proxyctl (reverse mode)</p></body></html>\n`;
  return { status, headers: [['Content-Type', 'text/html; charset=utf-8'], ['Cache-Control', 'no-store'], ...headers], body };
}

/**
 * Every backend of the group is down: 503 with `Retry-After` (RFC 9110 §10.2.3) and a page that
 * names the group and says what is wrong with each backend.
 */
export function backendsDownPage(group: string, backends: readonly BackendStatus[], retryAfterSeconds: number): LocalResponse {
  const rows = backends
    .map((b) => `<li><code>${escapeHtml(b.url)}</code>: ${b.healthy ? 'healthy' : `down${b.reason ? ` (${escapeHtml(b.reason)})` : ''}`}</li>`)
    .join('');
  const inner =
    `<p>No backend of group <b>${escapeHtml(group)}</b> is available. Try again in ${retryAfterSeconds} s.</p>` +
    `<ul>${rows}</ul>`;
  return page(503, 'No backend available', inner, [
    ['Retry-After', String(retryAfterSeconds)],
    ['X-Proxyctl-Error', 'BACKENDS_DOWN'],
  ]);
}

/** No route matches the request and there is no default group. */
export function noRoutePage(host: string | null, path: string): LocalResponse {
  const inner = `<p>No reverse route matches host <code>${escapeHtml(host ?? '(none)')}</code> and path <code>${escapeHtml(path)}</code>, and no default group is configured.</p>`;
  return page(404, 'No route', inner, [['X-Proxyctl-Error', 'NO_ROUTE']]);
}
